/*
 * fuzz-path.c - host paths of bind mounts and devices (src/lib/hostpath.c).
 * hp_canonical must accept exactly the absolute paths that a lexical
 * cleaner (the one dockerd applies) leaves unchanged, within the length
 * limits; hp_within must agree with a component-by-component comparison;
 * hp_resolve must take any canonical path without overrunning its buffers.
 * Input: a path; a newline splits an ENTRY from a PATH for hp_within.
 */
#include "fuzz.h"

#include "../../src/lib/hostpath.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fz_setup(NULL);
	return 0;
}

/* Like Go's filepath.Clean on an absolute path: drops empty and "." names, ".." pops one. */
static size_t
clean(const char *p, size_t n, char *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		size_t l = 0;
		while (i < n && p[i] == '/')
			i++;
		while (i + l < n && p[i + l] != '/')
			l++;
		if (l == 0 || (l == 1 && p[i] == '.')) {
			i += l;
			continue;
		}
		if (l == 2 && p[i] == '.' && p[i + 1] == '.') {
			while (o > 0)
				if (out[--o] == '/')
					break;
			i += l;
			continue;
		}
		out[o] = '/';
		memcpy(out + o + 1, p + i, l);
		o += l + 1;
		i += l;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return o;
}

/* 1 when P (N bytes) is absolute, free of NUL and control bytes, and within the limits. */
static int
plain(const char *p, size_t n)
{
	size_t comp = 0;

	if (n == 0 || p[0] != '/' || n >= HP_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f)
			return 0;
		comp = c == '/' ? 0 : comp + 1;
		if (comp > 255)
			return 0;
	}
	return 1;
}

static void
check_canonical(const char *p, size_t n)
{
	const char *why = hp_canonical(p, n);
	char *c;
	size_t cn;

	if (why && why[0] == '\0')
		abort(); /* a refusal says why */
	if (!plain(p, n)) {
		if (why == NULL)
			abort();
		return;
	}
	c = malloc(n + 2);
	cn = clean(p, n, c);
	if ((why == NULL) != (cn == n && memcmp(c, p, n) == 0))
		abort(); /* canonical is exactly "cleaning changes nothing" */
	if (hp_canonical(c, cn) != NULL)
		abort(); /* and what cleaning gives is canonical */
	free(c);
}

/* hp_within by components: every name of ENTRY starts PATH's names, in order. */
static int
within_by_names(const char *entry, const char *path)
{
	while (*entry) {
		size_t l = strcspn(entry + 1, "/");
		if (strncmp(entry, path, l + 1) != 0 || (path[l + 1] != '/' && path[l + 1] != '\0'))
			return entry[1] == '\0'; /* "/" holds everything */
		entry += l + 1;
		path += l + 1;
	}
	return 1;
}

static void
check_within(const char *entry, const char *path)
{
	if (hp_canonical(entry, strlen(entry)) || hp_canonical(path, strlen(path)))
		return;
	if (hp_within(entry, path) != within_by_names(entry, path))
		abort();
	if (!hp_within(entry, entry) || !hp_within("/", path))
		abort();
}

/* The resolver under this process's private directory: any canonical path, no overrun. */
static void
check_resolve(const char *p, size_t n)
{
	char path[HP_MAX + 64], why[320];
	size_t dl = strlen(fz_dir());
	enum hp_result r;

	if (hp_canonical(p, n) || n == 1 || dl + n >= HP_MAX)
		return;
	memcpy(path, fz_dir(), dl);
	memcpy(path + dl, p, n);
	path[dl + n] = '\0';
	why[0] = '\0';
	r = hp_resolve(path, n % 2 ? HP_DIRECTORY : HP_DEVICE, why, sizeof(why));
	if (r != HP_FOUND && r != HP_ABSENT && r != HP_UNSAFE)
		abort();
	if (r != HP_FOUND && why[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	const char *nl;

	if (size == 0) {
		if (hp_canonical("", 0) == NULL)
			abort();
		return 0;
	}
	nl = memchr(p, '\n', size);
	check_canonical(p, size);
	check_resolve(p, size);
	if (nl && !memchr(p, '\0', size)) {
		char *entry = strndup(p, (size_t)(nl - p));
		char *path = strndup(nl + 1, size - (size_t)(nl - p) - 1);
		check_within(entry, path);
		free(entry);
		free(path);
	}
	return 0;
}
