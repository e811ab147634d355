/*
 * fuzz-conf.c - berth.conf through cfg_load: libconfig's parser and berth's
 * validation of every section (roles, policy, catalog, services, limits).
 * A bad file must fail with "file:line: message", never crash; a good one
 * must answer role look-ups.  @include is left out: it reads other files,
 * which only the admin who writes berth.conf can name.
 */
#include "fuzz.h"

#include <strings.h>

static char path[160];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fz_setup(NULL);
	snprintf(path, sizeof(path), "%s/berth.conf", fz_dir());
	return 0;
}

static int
has_include(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i + 8 <= size; i++)
		if (data[i] == '@' && strncasecmp((const char *)data + i + 1, "include", 7) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct cfg *c;

	if (has_include(data, size))
		return -1; /* keep such inputs out of the corpus */
	fz_write(path, data, size);
	err[0] = '\0';
	c = cfg_load(path, err, sizeof(err));
	if (c == NULL) {
		if (strncmp(err, path, strlen(path)) != 0)
			abort(); /* every refusal names the file (and line) */
		return 0;
	}
	for (int r = 0; r < ROLE__COUNT; r++)
		if (c->policy[r].port_min > c->policy[r].port_max && c->policy[r].port_max != 0)
			abort();
	(void)cfg_role(c, "alice");
	(void)cfg_role(c, NULL);
	(void)cfg_is_protected(c, "web");
	cfg_free(c);
	return 0;
}
