/*
 * dockerfile.h - what a Dockerfile makes dockerd fetch, read before a
 * build is handed on (docs/docker-api.md, "Builds").  The classic builder
 * pulls every FROM image it does not have, copies out of any image a
 * COPY --from names, and downloads every URL an ADD names from the host
 * itself.  So each of those is an image reference berth must check against
 * the caller's allow-list and namespace, or a fetch it must refuse.
 *
 * The scan follows dockerd's parser where that decides what is named: the
 * escape directive, line continuations (comment lines inside one are
 * skipped), case-insensitive instructions, the JSON form of ADD and COPY,
 * ONBUILD's inner instruction, and FROM's build arguments: ARGs declared
 * before the first FROM, their defaults overridden by the request's
 * buildargs, expanded as $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word}.
 * A --from that uses a variable is refused (it is expanded elsewhere in
 * the stage, where berth does not follow).
 */
#ifndef BERTH_DOCKERFILE_H
#define BERTH_DOCKERFILE_H

#include <json-c/json.h>
#include <stddef.h>

#define DF_MAX_BYTES (1u << 20) /* a larger Dockerfile is refused */
#define DF_MAX_REFS  64         /* FROM and COPY --from lines checked */
#define DF_REF_MAX   512

enum df_kind {
	DF_FROM,     /* FROM <image>: scratch and earlier stages are not images */
	DF_COPY_FROM /* COPY/ADD --from=<stage, index or image> */
};

struct df_ref {
	enum df_kind kind;
	int line;             /* where the instruction starts, 1-based */
	int stage;            /* the stage it is in (0 is the first FROM's) */
	int is_stage;         /* it names an earlier stage (by name or index), or scratch */
	int last;             /* the instruction's last line (continuations) */
	char ref[DF_REF_MAX]; /* as dockerd will read it, variables expanded */
	char lit[DF_REF_MAX]; /* as written ("$BASE" for a variable) */
};

struct df_scan {
	struct df_ref refs[DF_MAX_REFS];
	size_t nrefs;
	int stages;
	int line;      /* on failure: the line it names (0: none) */
	char err[256]; /* on failure: why */
};

/*
 * Scans the LEN bytes of TEXT, BUILDARGS (NULL or a JSON object of strings
 * or nulls, the build's) giving the declared ARGs their values.  0 with
 * OUT filled, or -1 with OUT->err (and OUT->line): too large, not UTF-8
 * text, no FROM, an ADD from a URL or a git repository, a --from with a
 * variable, more references than DF_MAX_REFS.
 */
int df_scan(const char *text, size_t len, json_object *buildargs, struct df_scan *out);

/*
 * TEXT (LEN bytes, as scanned into S) with each reference I whose TO[I] is
 * not NULL written as TO[I] instead, into *OUT (malloc'd, NUL-terminated)
 * and *OUTLEN.  Only a reference written literally (no variable) on its
 * instruction's lines can be rewritten: 0, or -1 naming it in S->err and
 * S->line.
 */
int df_rewrite(const char *text, size_t len, struct df_scan *s, const char *const *to, char **out,
               size_t *outlen);

#endif
