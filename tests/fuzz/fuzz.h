/*
 * tests/fuzz/fuzz.h - what every libFuzzer harness of berth shares: a quiet
 * log, a private temporary directory, and a config loaded from text so the
 * code under test sees the g_cfg it would see in a worker.
 */
#ifndef BERTH_FUZZ_H
#define BERTH_FUZZ_H

#include "../../src/berth.h"
#include "../../src/edge/module.h"
#include "../../src/lib/cfg.h"
#include "../../src/lib/json.h"
#include "../../src/lib/log.h"
#include "../../src/lib/op.h"
#include "../../src/res/policy.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A temporary directory of this fuzzer process, made once (never removed: tmpfs). */
static inline const char *
fz_dir(void)
{
	static char dir[64];

	if (dir[0] == '\0') {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/berth-fuzz-XXXXXX",
		         t && strlen(t) < 40 ? t : "/tmp");
		if (mkdtemp(dir) == NULL) {
			perror("fuzz: mkdtemp");
			abort();
		}
	}
	return dir;
}

/* Writes LEN bytes of DATA to PATH; aborts on failure (a harness bug, not a finding). */
static inline void
fz_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

/* Silences berth's log and installs a config made from TEXT (NULL = defaults). */
static inline void
fz_setup(const char *text)
{
	char path[128], err[512];

	log_set_level((enum log_level)(LOG_ERROR_ + 1));
	mod_register();
	if (text) {
		snprintf(path, sizeof(path), "%s/setup.conf", fz_dir());
		fz_write(path, text, strlen(text));
	}
	g_cfg = cfg_load(text ? path : NULL, err, sizeof(err));
	if (g_cfg == NULL) {
		fprintf(stderr, "fuzz: setup config refused: %s\n", err);
		abort();
	}
}

/*
 * A container SPEC through pol_check for every role; each Docker body built
 * from what a role lets through (with LABELS, may be NULL) goes to CHECK,
 * which aborts on a broken invariant.  A refusal must say what and why.
 */
static inline void
fz_each_role_body(json_object *spec, json_object *labels, void (*check)(json_object *body))
{
	for (int role = ROLE_VIEWER; role < ROLE__COUNT; role++) {
		json_object *copy = NULL, *body;
		struct pol_limits lim;
		struct op o;

		op_init(&o, "fuzz", (enum role)role);
		if (json_object_deep_copy(spec, &copy, NULL) != 0)
			abort();
		if (pol_check(&o, (enum role)role, copy, 0, &lim) == B_OK) {
			body = pol_docker_body(copy, labels, &lim);
			if (body == NULL || jx_text(body) == NULL)
				abort();
			check(body);
			json_object_put(body);
		} else if (o.err == B_OK || o.msg[0] == '\0') {
			abort();
		}
		op_done(&o);
		json_object_put(copy);
	}
}

#endif
