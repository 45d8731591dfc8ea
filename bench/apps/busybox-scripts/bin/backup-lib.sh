# backup-lib.sh: helpers the backup scripts source.

BACKUP_DIR=${BACKUP_DIR:-/backup}

# archive_name prints the archive a backup named $1 is written to.
archive_name() {
	printf '%s/%s.tar.gz' "$BACKUP_DIR" "$1"
}
