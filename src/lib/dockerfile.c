/*
 * dockerfile.c - the references a Dockerfile makes the classic builder
 * fetch (see dockerfile.h).  One pass over the text: directives, then
 * logical lines (continuations joined), each split into its instruction
 * and arguments.  Only FROM, ARG (before the first FROM), COPY, ADD and
 * ONBUILD matter; every other instruction runs inside the build's own
 * containers, which berth's limits already bound.
 */
#include "berth.h"
#include "lib/dockerfile.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DF_MAX_ARGS   64 /* meta ARGs before the first FROM */
#define DF_MAX_STAGES 64
#define DF_NAME_MAX   128

struct meta {
	char name[DF_NAME_MAX];
	char *value; /* malloc'd; NULL: declared without a value */
};

struct scan {
	struct df_scan *out;
	json_object *buildargs;
	char escape;
	struct meta metas[DF_MAX_ARGS];
	size_t nmetas;
	char stages[DF_MAX_STAGES][DF_NAME_MAX]; /* "" for a stage without AS */
	int line;                                /* the instruction's first line */
	int last;                                /* and its last */
};

static int
fail(struct scan *s, const char *fmt, ...)
{
	va_list ap;

	s->out->line = s->line;
	va_start(ap, fmt);
	vsnprintf(s->out->err, sizeof(s->out->err), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* The next blank-separated word of *P into W (cut to N); its length, 0 at the end. */
static size_t
word(const char **p, char *w, size_t n)
{
	const char *q = skip_ws(*p), *e = q;
	size_t k;

	while (*e && *e != ' ' && *e != '\t')
		e++;
	k = (size_t)(e - q);
	snprintf(w, n, "%.*s", (int)(k < n ? k : n - 1), q);
	*p = e;
	return k;
}

static const char *
meta_value(const struct scan *s, const char *name, size_t n)
{
	for (size_t i = 0; i < s->nmetas; i++)
		if (strlen(s->metas[i].name) == n && strncmp(s->metas[i].name, name, n) == 0)
			return s->metas[i].value;
	return NULL;
}

/* Appends N bytes of P to OUT (cap DF_REF_MAX); -1 when it does not fit. */
static int
put(char *out, size_t *k, const char *p, size_t n)
{
	if (*k + n >= DF_REF_MAX)
		return -1;
	memcpy(out + *k, p, n);
	*k += n;
	out[*k] = '\0';
	return 0;
}

/*
 * IN with the meta ARGs expanded into OUT, as dockerd's shell lexer does
 * for FROM: $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word}, the escape
 * character before $ for a literal one.  A word that holds another
 * expansion is refused (berth would have to follow nesting dockerd follows).
 */
static int
expand(struct scan *s, const char *in, char *out)
{
	size_t k = 0;

	out[0] = '\0';
	for (const char *p = in; *p;) {
		const char *name, *val, *alt = NULL;
		size_t nl, al = 0;
		char mod = 0;

		if (*p == s->escape && p[1] == '$') {
			if (put(out, &k, "$", 1) != 0)
				goto long_;
			p += 2;
			continue;
		}
		if (*p != '$') {
			if (put(out, &k, p++, 1) != 0)
				goto long_;
			continue;
		}
		p++;
		if (*p == '{') {
			name = ++p;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			nl = (size_t)(p - name);
			if (p[0] == ':' && (p[1] == '-' || p[1] == '+')) {
				mod = p[1];
				alt = p += 2;
				while (*p && *p != '}' && *p != '$' && *p != '{')
					p++;
				al = (size_t)(p - alt);
			}
			if (*p != '}' || nl == 0)
				return fail(s,
				            "FROM %s: only $NAME, ${NAME}, ${NAME:-word} and "
				            "${NAME:+word} are followed",
				            in);
			p++;
		} else if (isalpha((unsigned char)*p) || *p == '_') {
			name = p;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			nl = (size_t)(p - name);
		} else {
			if (put(out, &k, "$", 1) != 0)
				goto long_;
			continue;
		}
		val = meta_value(s, name, nl);
		if (mod == '-' && (val == NULL || !*val)) {
			if (put(out, &k, alt, al) != 0)
				goto long_;
		} else if (mod == '+') {
			if (val && *val && put(out, &k, alt, al) != 0)
				goto long_;
		} else if (val && put(out, &k, val, strlen(val)) != 0) {
			goto long_;
		}
	}
	return 0;
long_:
	return fail(s, "an image reference over %d bytes", DF_REF_MAX - 1);
}

static struct df_ref *
new_ref(struct scan *s, enum df_kind kind)
{
	struct df_ref *r;

	if (s->out->nrefs >= DF_MAX_REFS) {
		fail(s, "more than %d FROM and --from references", DF_MAX_REFS);
		return NULL;
	}
	r = &s->out->refs[s->out->nrefs++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->line = s->line;
	r->last = s->last;
	r->stage = s->out->stages - 1;
	return r;
}

/* 1 when NAME names a stage before the current one (a name, or with BY_INDEX an index). */
static int
earlier_stage(const struct scan *s, const char *name, int current, int by_index)
{
	char *end;
	long i = strtol(name, &end, 10);

	if (by_index && *name && *end == '\0')
		return i >= 0 && i < current;
	for (int k = 0; k < current && k < DF_MAX_STAGES; k++)
		if (s->stages[k][0] && strcasecmp(s->stages[k], name) == 0)
			return 1;
	return 0;
}

/* ARG NAME[=value] ... before the first FROM: a meta ARG FROM may use. */
static int
meta_arg(struct scan *s, const char *args)
{
	char w[DF_REF_MAX + DF_NAME_MAX];
	const char *p = args;

	while (word(&p, w, sizeof(w)) > 0) {
		char *eq = strchr(w, '='), *v;
		struct meta *m;
		json_object *ba;
		size_t vl;

		if (eq)
			*eq = '\0';
		if (!*w || strlen(w) >= DF_NAME_MAX)
			return fail(s, "ARG: a name of 1 to %d characters", DF_NAME_MAX - 1);
		if (s->nmetas >= DF_MAX_ARGS)
			return fail(s, "more than %d ARGs before the first FROM", DF_MAX_ARGS);
		m = &s->metas[s->nmetas++];
		snprintf(m->name, sizeof(m->name), "%s", w);
		v = eq ? eq + 1 : NULL;
		if (v && (vl = strlen(v)) >= 2 && (v[0] == '"' || v[0] == '\'') &&
		    v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		/* The build's own value wins over the default, as dockerd has it. */
		if (json_object_object_get_ex(s->buildargs, w, &ba) &&
		    json_object_is_type(ba, json_type_string))
			v = (char *)json_object_get_string(ba);
		m->value = v ? strdup(v) : NULL;
	}
	return 0;
}

static int
from(struct scan *s, const char *args)
{
	char img[DF_REF_MAX], as[8], name[DF_NAME_MAX];
	const char *p = args;
	struct df_ref *r;
	int stage = s->out->stages;

	do
		if (word(&p, img, sizeof(img)) == 0)
			return fail(s, "FROM names no image");
	while (strncmp(img, "--", 2) == 0); /* --platform=... */
	name[0] = '\0';
	if (word(&p, as, sizeof(as)) > 0) {
		if (strcasecmp(as, "as") != 0 || word(&p, name, sizeof(name)) == 0)
			return fail(s, "FROM %s: what follows the image must be AS <name>", img);
	}
	if (stage >= DF_MAX_STAGES)
		return fail(s, "more than %d build stages", DF_MAX_STAGES);
	s->out->stages++;
	snprintf(s->stages[stage], sizeof(s->stages[stage]), "%s", name);
	if ((r = new_ref(s, DF_FROM)) == NULL)
		return -1;
	memcpy(r->lit, img, sizeof(r->lit));
	if (expand(s, img, r->ref) != 0)
		return -1;
	if (!r->ref[0])
		return fail(s, "FROM %s names no image once its variables are expanded", img);
	r->is_stage = strcasecmp(r->ref, "scratch") == 0 || earlier_stage(s, r->ref, stage, 0);
	return 0;
}

/* A source dockerd would download instead of reading from the context. */
static int
remote_source(const char *src)
{
	const char *p = src;

	if (strncmp(src, "git@", 4) == 0)
		return 1;
	while (isalpha((unsigned char)*p) || *p == '+' || *p == '.' || *p == '-')
		p++;
	return p > src && strncmp(p, "://", 3) == 0;
}

/* The sources of an ADD (every argument but the last), JSON form or not. */
static int
add_sources(struct scan *s, const char *p)
{
	char w[4096], last[4096] = "";
	int n = 0;

	if (*p == '[') {
		json_object *a = json_tokener_parse(p);
		size_t len =
		    json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
		for (size_t i = 0; i + 1 < len; i++) {
			const char *src = json_object_get_string(json_object_array_get_idx(a, i));
			if (src && remote_source(src)) {
				json_object_put(a);
				goto remote;
			}
		}
		json_object_put(a);
		return 0;
	}
	while (word(&p, w, sizeof(w)) > 0) {
		if (n++ && remote_source(last))
			goto remote;
		snprintf(last, sizeof(last), "%s", w);
	}
	return 0;
remote:
	return fail(s, "ADD from a URL or a git repository is refused: dockerd would fetch it "
	               "from berth's host; put the file in the build context");
}

static int instruction(struct scan *s, const char *line, int nested);

static int
copy_add(struct scan *s, const char *args, int add)
{
	char w[DF_REF_MAX + 16];
	const char *p = skip_ws(args), *q;
	struct df_ref *r;

	for (;;) {
		q = p;
		if (strncmp(skip_ws(q), "--", 2) != 0 || word(&q, w, sizeof(w)) == 0)
			break;
		p = skip_ws(q);
		if (strncasecmp(w, "--from=", 7) != 0)
			continue;
		if (strchr(w + 7, '$'))
			return fail(s,
			            "%s --from=%s: a variable in --from is not followed; name the "
			            "stage or the image",
			            add ? "ADD" : "COPY", w + 7);
		if ((r = new_ref(s, DF_COPY_FROM)) == NULL)
			return -1;
		if (strlen(w + 7) >= sizeof(r->ref))
			return fail(s, "--from: an image reference over %d bytes", DF_REF_MAX - 1);
		memcpy(r->ref, w + 7, strlen(w + 7) + 1);
		memcpy(r->lit, r->ref, sizeof(r->lit));
		r->is_stage = earlier_stage(s, r->ref, s->out->stages - 1, 1);
	}
	return add ? add_sources(s, p) : 0;
}

/* One logical line: its instruction and arguments. */
static int
instruction(struct scan *s, const char *line, int nested)
{
	char ins[16];
	const char *p = line;

	if (word(&p, ins, sizeof(ins)) == 0)
		return 0;
	p = skip_ws(p);
	if (s->out->stages == 0 && strcasecmp(ins, "ARG") != 0 && strcasecmp(ins, "FROM") != 0)
		return fail(s, "%s before the first FROM", ins);
	if (strcasecmp(ins, "FROM") == 0)
		return nested ? fail(s, "ONBUILD FROM is not allowed") : from(s, p);
	if (strcasecmp(ins, "ARG") == 0 && s->out->stages == 0 && !nested)
		return meta_arg(s, p);
	if (strcasecmp(ins, "COPY") == 0 || strcasecmp(ins, "ADD") == 0)
		return copy_add(s, p, ins[0] == 'A' || ins[0] == 'a');
	if (strcasecmp(ins, "ONBUILD") == 0)
		return nested ? fail(s, "ONBUILD ONBUILD is not allowed") : instruction(s, p, 1);
	return 0;
}

/* The parser directives at the top ("# escape=`"); the offset after them. */
static size_t
directives(struct scan *s, const char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *l = t + i, *e = memchr(l, '\n', len - i), *p;
		size_t ll = e ? (size_t)(e - l) : len - i;
		char key[16];
		size_t k = 0;

		p = skip_ws(l);
		if (*p != '#')
			break;
		p = skip_ws(p + 1);
		while (k + 1 < sizeof(key) && (isalpha((unsigned char)*p)))
			key[k++] = (char)tolower((unsigned char)*p++);
		key[k] = '\0';
		p = skip_ws(p);
		if (!k || *p != '=')
			break;
		p = skip_ws(p + 1);
		if (strcmp(key, "escape") == 0 && (*p == '`' || *p == '\\'))
			s->escape = *p;
		i += ll + (e != NULL);
		s->line++;
	}
	return i;
}

static void
free_metas(struct scan *s)
{
	for (size_t i = 0; i < s->nmetas; i++)
		free(s->metas[i].value);
}

int
df_scan(const char *text, size_t len, json_object *buildargs, struct df_scan *out)
{
	struct scan s = {.out = out, .buildargs = buildargs, .escape = '\\'};
	char *buf = NULL;
	size_t i, k = 0;
	int rc = -1, start = 0;

	memset(out, 0, sizeof(*out));
	if (len > DF_MAX_BYTES)
		return fail(&s, "the Dockerfile is over %u bytes", DF_MAX_BYTES);
	if (memchr(text, '\0', len))
		return fail(&s, "the Dockerfile is not text (it holds a NUL byte)");
	/* One NUL-terminated copy to read (the caller's bytes need not end in one). */
	if ((buf = malloc(2 * len + 2)) == NULL)
		return fail(&s, "out of memory");
	memcpy(buf + len + 1, text, len);
	buf[2 * len + 1] = '\0';
	text = buf + len + 1;
	i = directives(&s, text, len);
	while (i < len) {
		const char *l = text + i, *e = memchr(l, '\n', len - i), *p;
		size_t ll = e ? (size_t)(e - l) : len - i, tl = ll;

		i += ll + (e != NULL);
		s.line++;
		while (tl && (l[tl - 1] == '\r' || l[tl - 1] == ' ' || l[tl - 1] == '\t'))
			tl--;
		p = skip_ws(l);
		/* Comment and empty lines, inside a continuation too, are not part of it. */
		if (p >= l + tl || *p == '#')
			continue;
		if (k == 0)
			start = s.line;
		if (tl && l[tl - 1] == s.escape) {
			memcpy(buf + k, l, tl - 1);
			k += tl - 1;
			if (i < len)
				continue;
		} else {
			memcpy(buf + k, l, tl);
			k += tl;
		}
		buf[k] = '\0';
		k = 0;
		{
			int here = s.line;
			s.line = start;
			s.last = here;
			if (instruction(&s, buf, 0) != 0)
				goto out;
			s.line = here;
		}
	}
	if (k) {
		buf[k] = '\0';
		s.last = s.line;
		s.line = start;
		if (instruction(&s, buf, 0) != 0)
			goto out;
	}
	s.line = 0;
	if (out->stages == 0) {
		fail(&s, "the Dockerfile has no FROM");
		goto out;
	}
	rc = 0;
out:
	free(buf);
	free_metas(&s);
	return rc;
}

/* LIT's offset in the LEN bytes at LINE as a whole word (blank or '=' before, blank or the end
 * after), or -1. */
static long
find_word(const char *line, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	for (size_t i = 0; n && i + n <= len; i++) {
		char before = i ? line[i - 1] : ' ', after = i + n < len ? line[i + n] : ' ';
		if (memcmp(line + i, lit, n) == 0 &&
		    (before == ' ' || before == '\t' || before == '=') &&
		    (after == ' ' || after == '\t' || after == '\r'))
			return (long)i;
	}
	return -1;
}

int
df_rewrite(const char *text, size_t len, struct df_scan *s, const char *const *to, char **out,
           size_t *outlen)
{
	size_t extra = 0, k = 0, i = 0;
	char *o;
	int line = 0;

	for (size_t r = 0; r < s->nrefs; r++)
		if (to[r])
			extra += strlen(to[r]) + 1;
	if ((o = malloc(len + extra + 1)) == NULL) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	while (i < len) {
		const char *l = text + i, *e = memchr(l, '\n', len - i);
		size_t ll = e ? (size_t)(e - l) : len - i, done = 0;

		line++;
		for (size_t r = 0; r < s->nrefs; r++) {
			struct df_ref *ref = &s->refs[r];
			long at;
			if (!to[r] || ref->line == 0 || ref->line > line || ref->last < line)
				continue;
			at = strchr(ref->lit, '$') ? -1 : find_word(l + done, ll - done, ref->lit);
			if (at < 0 && line < ref->last)
				continue; /* on a later line of the instruction */
			if (at < 0) {
				s->line = ref->line;
				snprintf(s->err, sizeof(s->err),
				         "%.150s is not written out on its line (a variable, or "
				         "split by a continuation)",
				         ref->lit);
				free(o);
				return -1;
			}
			memcpy(o + k, l + done, (size_t)at);
			k += (size_t)at;
			memcpy(o + k, to[r], strlen(to[r]));
			k += strlen(to[r]);
			done += (size_t)at + strlen(ref->lit);
			ref->line = 0; /* rewritten */
		}
		memcpy(o + k, l + done, ll - done + (e != NULL));
		k += ll - done + (e != NULL);
		i += ll + (e != NULL);
	}
	o[k] = '\0';
	*out = o;
	*outlen = k;
	return 0;
}
