#include <stdio.h>
#include <openssl/crypto.h>

/* Prints the OpenSSL the program runs with: the library must be there. */
int main(void) {
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	return 0;
}
