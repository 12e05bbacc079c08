/*
 * replay: run a libFuzzer harness over saved inputs without libFuzzer, so
 * that `make check` replays every corpus under the normal build (and under
 * SANITIZE=address,undefined).  Arguments are files or directories.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
run_file(const char *path)
{
	FILE		*f;
	uint8_t		*p;
	long		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(p, (size_t)n);
	free(p);
	return 0;
}

int
main(int argc, char **argv)
{
	long		 count = 0;
	int		 i;
	struct stat	 st;
	char		 path[4096];

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			if (d == NULL)
				continue;
			while ((de = readdir(d)) != NULL) {
				if (de->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i],
				    de->d_name);
				if (run_file(path) == 0)
					count++;
			}
			closedir(d);
		} else if (run_file(argv[i]) == 0)
			count++;
	}
	printf("%s: %ld passed, 0 failed\n", argv[0], count);
	return 0;
}
