/* SPDX-License-Identifier: MIT */
/*
 * Runs a fuzz target without libFuzzer, as a test: every input of a corpus, then a fixed number of
 * seeded mutations of each. A target is one LLVMFuzzerTestOneInput (libFuzzer's entry point); it
 * aborts (assert) when an invariant breaks, and the sanitizer builds catch memory errors. scripts/fuzz.sh
 * links the same targets with libFuzzer for coverage-guided runs.
 *
 *   fuzz_NAME [PATH...]       PATH: an input file or a folder of them (read in name order)
 *   FUZZ_MUTATIONS=N          mutations per input (default 300; 0 replays the corpus only)
 *   FUZZ_SEED=S               seed of the mutations (default 1)
 *   FUZZ_ONLY=FILE:K          run only mutation K of FILE (K=0: the file as it is)
 *
 * When an input crashes the target, its origin is printed and the input is written to
 * crash-NAME-K in the working directory, so it can be replayed or added to the corpus.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#include <sanitizer/common_interface_defs.h>
#define HAVE_SANITIZER 1
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (1u << 20)

/* What is running now, for the crash report. */
static const char *cur_name;
static unsigned long cur_k;
static const uint8_t *cur_data;
static size_t cur_size;

static void put(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* v in decimal, in the tail of buf (24 bytes); no stdio, so it can run in a signal handler. */
static const char *ulong_str(char *buf, unsigned long v)
{
	int i = 23;

	buf[i] = 0;
	do
		buf[--i] = '0' + v % 10;
	while ((v /= 10) && i > 0);
	return buf + i;
}

/* Async-signal-safe: report the input being run and save it. */
static void report_crash(void)
{
	char path[256] = "crash-", num[24];
	const char *base;
	size_t n;
	int fd;

	if (!cur_name)
		return;
	base = base_name(cur_name);
	n = strlen(path);
	while (*base && n < sizeof(path) - 24)
		path[n++] = *base++;
	path[n++] = '-';
	strcpy(path + n, ulong_str(num, cur_k));
	put("fuzz: crashed on ");
	put(cur_name);
	put(" mutation ");
	put(ulong_str(num, cur_k));
	put("; FUZZ_ONLY=");
	put(cur_name);
	put(":");
	put(ulong_str(num, cur_k));
	put(" re-runs it (same FUZZ_SEED); input saved as ");
	put(path);
	put("\n");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		ssize_t r = write(fd, cur_data, cur_size);
		(void)r;
		close(fd);
	}
	cur_name = NULL;
}

static void on_signal(int sig)
{
	report_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* xorshift64*: the mutations depend only on the seed, the file's name and K. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t seed_for(uint64_t seed, const char *name, unsigned long k)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (const char *base = base_name(name); *base; base++)
		h = (h ^ (uint8_t)*base) * 0x100000001b3ull;
	h ^= (uint64_t)k * 0x9e3779b97f4a7c15ull;
	return h ? h : 1;
}

/* Values that sit on the edges of fields: zero, one, all ones, sign bits, page and sector sizes. */
static const uint64_t interesting[] = {
	0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200, 0xfff, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
	0xffffffffffffffffull, 0xfffffffffffff000ull, 0xfffffe00,
};

/* Apply 1-8 random edits to buf (len bytes, room for cap); returns the new length. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap, uint64_t *rng)
{
	unsigned int edits = 1 + rng_next(rng) % 8;

	while (edits--) {
		uint64_t r = rng_next(rng);
		size_t at = len ? (size_t)(rng_next(rng) % len) : 0;

		switch (r % 7) {
		case 0: /* flip a bit */
			if (len)
				buf[at] ^= 1u << (r >> 8) % 8;
			break;
		case 1: /* a random byte */
			if (len)
				buf[at] = r >> 16;
			break;
		case 2: { /* an edge value, 1, 2, 4 or 8 bytes little-endian */
			size_t w = (size_t)1 << ((r >> 8) % 4);
			uint64_t v = interesting[(r >> 16) % (sizeof(interesting) / sizeof(interesting[0]))];

			if (r & (1u << 30))
				v = -v;
			if (len >= w) {
				at = at > len - w ? len - w : at;
				for (size_t i = 0; i < w; i++)
					buf[at + i] = v >> (8 * i);
			}
			break;
		}
		case 3: /* add a small number to a byte */
			if (len)
				buf[at] += (int8_t)((r >> 8) % 33) - 16;
			break;
		case 4: /* copy a chunk over another place */
			if (len) {
				size_t from = (size_t)(rng_next(rng) % len);
				size_t n = 1 + (r >> 8) % 32;

				n = n > len - at ? len - at : n;
				n = n > len - from ? len - from : n;
				memmove(buf + at, buf + from, n);
			}
			break;
		case 5: /* cut the tail */
			if (len)
				len = at;
			break;
		default: /* insert random bytes */ {
			size_t n = 1 + (r >> 8) % 16;

			if (len + n <= cap) {
				memmove(buf + at + n, buf + at, len - at);
				for (size_t i = 0; i < n; i++)
					buf[at + i] = rng_next(rng);
				len += n;
			}
			break;
		}
		}
	}
	return len;
}

struct input {
	char *path;
	uint8_t *data;
	size_t size;
};

static int read_input(const char *path, struct input *in)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t done = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		goto fail;
	if (st.st_size > FUZZ_MAX_INPUT) {
		fprintf(stderr, "fuzz: %s is over %u bytes; keep corpus inputs small\n", path, FUZZ_MAX_INPUT);
		close(fd);
		return -1;
	}
	in->size = st.st_size;
	in->data = malloc(in->size ? in->size : 1);
	in->path = strdup(path);
	if (!in->data || !in->path)
		goto fail;
	while (done < in->size) {
		ssize_t n = read(fd, in->data + done, in->size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += n;
	}
	close(fd);
	return 0;
fail:
	fprintf(stderr, "fuzz: cannot read %s: %s\n", path, strerror(errno ? errno : EIO));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append path, or every regular file in it (name order), to *ins. */
static int collect(const char *path, struct input **ins, size_t *n)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t count = 0;
	int r = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*ins = realloc(*ins, (*n + 1) * sizeof(**ins));
		if (!*ins)
			return -1;
		if (read_input(path, &(*ins)[*n]) < 0)
			return -1;
		(*n)++;
		return 0;
	}
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		names = realloc(names, (count + 1) * sizeof(*names));
		if (!names || asprintf(&names[count], "%s/%s", path, e->d_name) < 0) {
			closedir(d);
			return -1;
		}
		count++;
	}
	closedir(d);
	qsort(names, count, sizeof(*names), cmp_str);
	for (size_t i = 0; i < count && r == 0; i++)
		r = collect(names[i], ins, n);
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return r;
}

static void run_one(const char *name, unsigned long k, const uint8_t *data, size_t size)
{
	cur_name = name;
	cur_k = k;
	cur_data = data;
	cur_size = size;
	LLVMFuzzerTestOneInput(data, size);
	cur_name = NULL;
}

static unsigned long env_ulong(const char *key, unsigned long dflt)
{
	const char *v = getenv(key);
	char *end;
	unsigned long r;

	if (!v || !*v)
		return dflt;
	errno = 0;
	r = strtoul(v, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "fuzz: %s=%s is not a number\n", key, v);
		exit(2);
	}
	return r;
}

int main(int argc, char **argv)
{
	unsigned long mutations = env_ulong("FUZZ_MUTATIONS", 300);
	uint64_t seed = env_ulong("FUZZ_SEED", 1);
	const char *only = getenv("FUZZ_ONLY");
	struct input *ins = NULL;
	size_t n = 0, runs = 0;
	uint8_t *buf = malloc(FUZZ_MAX_INPUT);

	if (!buf)
		return 1;
#ifdef HAVE_SANITIZER
	__sanitizer_set_death_callback(report_crash);
#endif
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	signal(SIGABRT, on_signal);
	signal(SIGFPE, on_signal);

	for (int i = 1; i < argc; i++)
		if (collect(argv[i], &ins, &n) < 0)
			return 1;
	if (n == 0) {
		fprintf(stderr, "fuzz: no inputs; give a corpus folder or files\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *base = base_name(ins[i].path);
		unsigned long first = 0, last = mutations;

		if (only) {
			/* FILE:K, FILE with or without its folder */
			const char *colon = strrchr(only, ':');
			const char *obase = only;

			for (const char *c = only; colon && c < colon; c++)
				if (*c == '/')
					obase = c + 1;
			if (!colon || (size_t)(colon - obase) != strlen(base) || strncmp(obase, base, colon - obase))
				continue;
			first = last = strtoul(colon + 1, NULL, 0);
		}
		for (unsigned long k = first; k <= last; k++) {
			size_t len = ins[i].size;

			memcpy(buf, ins[i].data, len);
			if (k) {
				uint64_t rng = seed_for(seed, ins[i].path, k);

				len = mutate(buf, len, FUZZ_MAX_INPUT, &rng);
			}
			run_one(ins[i].path, k, buf, len);
			runs++;
		}
	}
	if (runs == 0) {
		fprintf(stderr, "fuzz: FUZZ_ONLY=%s names no input given; use FILE:K with FILE a corpus file's name\n", only);
		return 1;
	}
	printf("fuzz: %zu inputs, %zu runs (FUZZ_MUTATIONS=%lu FUZZ_SEED=%llu), no invariant broken\n", n, runs,
	       mutations, (unsigned long long)seed);
	for (size_t i = 0; i < n; i++) {
		free(ins[i].path);
		free(ins[i].data);
	}
	free(ins);
	free(buf);
	return 0;
}
