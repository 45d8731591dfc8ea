#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
	char cwd[256];
	printf("hello, %s (uid %d, cwd %s)\n", argc > 1 ? argv[1] : "nobody", (int)getuid(), getcwd(cwd, sizeof cwd) ? cwd : "?");
	return 3;
}
