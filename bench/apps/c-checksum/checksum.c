/*
 * checksum prints the CRC-32 and Adler-32 of files (zlib's), and how small
 * zlib's deflate makes them. With no file it checks a sample text, so that
 * a container run with no arguments shows it works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char sample[] =
    "The quick brown fox jumps over the lazy dog.\n"
    "The quick brown fox jumps over the lazy dog.\n"
    "The quick brown fox jumps over the lazy dog.\n";

static int report(const char *name, const unsigned char *data, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);
	uLong adler = adler32(0L, Z_NULL, 0);
	uLongf packed = compressBound(len);
	unsigned char *buf = malloc(packed);

	if (buf == NULL) {
		perror("malloc");
		return 1;
	}
	crc = crc32(crc, data, len);
	adler = adler32(adler, data, len);
	if (compress2(buf, &packed, data, len, Z_BEST_COMPRESSION) != Z_OK) {
		fprintf(stderr, "%s: deflate failed\n", name);
		free(buf);
		return 1;
	}
	printf("%-24s crc32 %08lx  adler32 %08lx  %zu -> %lu bytes\n", name, crc, adler, len,
	       (unsigned long)packed);
	free(buf);
	return 0;
}

static int report_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			if (data == NULL) {
				perror("realloc");
				fclose(f);
				return 1;
			}
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	rc = report(path, data, len);
	free(data);
	return rc;
}

int main(int argc, char **argv)
{
	int i, rc = 0;

	printf("checksum (zlib %s)\n", zlibVersion());
	if (argc < 2)
		return report("sample", (const unsigned char *)sample, strlen(sample));
	for (i = 1; i < argc; i++)
		rc |= report_file(argv[i]);
	return rc;
}
