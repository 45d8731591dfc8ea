cd /tmp
export Z=3
