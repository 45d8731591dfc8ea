/*
 * primes prints how many primes there are below each limit it is given
 * (below 1000000 with none), with a sieve of Eratosthenes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long count_below(long limit)
{
	unsigned char *composite;
	long i, j, count = 0;

	if (limit < 3)
		return 0;
	composite = calloc(limit, 1);
	if (composite == NULL) {
		perror("calloc");
		exit(1);
	}
	for (i = 2; i < limit; i++) {
		if (composite[i])
			continue;
		count++;
		for (j = i * i; j < limit; j += i)
			composite[j] = 1;
	}
	free(composite);
	return count;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		printf("primes below 1000000: %ld\n", count_below(1000000));
		return 0;
	}
	for (i = 1; i < argc; i++) {
		char *end;
		long limit = strtol(argv[i], &end, 10);
		if (*end != '\0' || limit < 0 || limit > 100000000) {
			fprintf(stderr, "primes: %s: want a number from 0 to 100000000\n", argv[i]);
			return 2;
		}
		printf("primes below %ld: %ld\n", limit, count_below(limit));
	}
	return 0;
}
