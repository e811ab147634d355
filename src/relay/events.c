/*
 * events.c - the relay's events mode (events.h): dockerd's /events stream,
 * line by line, each event kept only when the ticket's caller may see it
 * and sent as one Server-Sent Event with berth's names, plus a keepalive
 * comment every EV_KEEPALIVE_S so proxies and browsers keep an idle
 * stream open.  Visibility: containers (and the services and jobs made of
 * them) by their berth.instance and berth.owner labels; volumes and
 * networks carry no labels in their events (Docker 20.10), so by their
 * namespaced Docker name (res/owner.h); catalog builds by the
 * berth.catalog label of the image, which every viewer may list.
 */
#include "berth.h"
#include "relay/events.h"
#include "relay/relay.h"
#include "lib/json.h"
#include "res/containers.h"
#include "res/owner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#define EV_KEEPALIVE_S 15
#define EV_OUT_MAX     (8 * 1024) /* one SSE event: berth's names and ids are short */

static const char *const type_names[] = {"container", "service", "job",
                                         "build",     "volume",  "network"};

unsigned
ev_type_bit(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strlen(type_names[i]) == n && memcmp(type_names[i], name, n) == 0)
			return 1u << i;
	return 0;
}

const char *
ev_type_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (bit == 1u << i)
			return type_names[i];
	return "event";
}

void
ev_view_of(struct ev_view *v, json_object *tk)
{
	json_object *own = jx_arr(tk, "owners"), *ns = jx_arr(tk, "ns");
	size_t n = own ? json_object_array_length(own) : 0;

	memset(v, 0, sizeof(*v));
	v->admin = jx_bool(tk, "admin", 0);
	v->instance = jx_str(tk, "instance");
	v->types = (unsigned)jx_int(tk, "types", EV_ALL) & EV_ALL;
	v->after = jx_int(tk, "after", 0);
	v->docker = jx_str(tk, "format") && strcmp(jx_str(tk, "format"), "docker") == 0;
	v->actions = jx_arr(tk, "actions");
	/* Owners and their suffixes go in pairs; a ticket that breaks the pairing sees less. */
	if (ns == NULL || json_object_array_length(ns) != n)
		n = 0;
	for (size_t i = 0; i < n && v->nowners < EV_OWNERS; i++) {
		const char *o = json_object_get_string(json_object_array_get_idx(own, i));
		const char *x = json_object_get_string(json_object_array_get_idx(ns, i));
		if (o == NULL || x == NULL || *o == '\0' || *x == '\0')
			continue;
		v->owner[v->nowners] = o;
		v->ns[v->nowners++] = x;
	}
}

static int
is_owner(const struct ev_view *v, const char *owner)
{
	for (size_t i = 0; owner && i < v->nowners; i++)
		if (strcmp(v->owner[i], owner) == 0)
			return 1;
	return 0;
}

/* What one event says, in berth's terms. */
struct ev_what {
	unsigned kind;
	const char *owner; /* NULL: not an owner's (builds) */
	char name[OWN_DNAME_MAX + 1];
	const char *id;
};

/* Label KEY of ATTRS when set: berth writes every label it knows, most of them empty. */
static const char *
label(json_object *attrs, const char *key)
{
	const char *v = jx_str(attrs, key);

	return v && *v ? v : NULL;
}

/* A container's event: visible to its owner (and admins) on this instance. */
static int
what_container(const struct ev_view *v, json_object *attrs, struct ev_what *w)
{
	const char *inst = label(attrs, LBL_INSTANCE), *owner = label(attrs, LBL_OWNER);
	const char *name;

	if (inst == NULL || v->instance == NULL || strcmp(inst, v->instance) != 0)
		return 0;
	if (!v->admin && !is_owner(v, owner))
		return 0;
	if (label(attrs, LBL_JOB)) {
		w->kind = EV_JOB;
		name = label(attrs, LBL_JOB);
	} else if (label(attrs, LBL_SERVICE)) {
		w->kind = EV_SERVICE;
		name = label(attrs, LBL_SERVICE);
	} else {
		w->kind = EV_CONTAINER;
		name = own_shown(label(attrs, LBL_NAME), jx_str(attrs, "name"));
	}
	w->owner = owner;
	snprintf(w->name, sizeof(w->name), "%s", name ? name : "");
	return 1;
}

/* 1 when S is "<name>.<slug>.<8 hex>", the shape of a namespaced name; *CUT where it starts. */
static int
dname_shape(const char *s, size_t *cut)
{
	size_t n = strlen(s), i, dot;

	if (n < 12 || s[n - 9] != '.')
		return 0;
	for (i = n - 8; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	dot = n - 9;
	for (i = dot; i-- > 0 && s[i] != '.';)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	if (i == (size_t)-1 || i == 0 || i + 1 == dot)
		return 0;
	*cut = i;
	return 1;
}

/*
 * A volume's or network's event, by its Docker name DNAME: an owner's of the
 * caller when it ends in their suffix; for admins any namespaced name (the
 * instance cannot be told from the name alone: docs/events.md).
 */
static int
what_named(const struct ev_view *v, const char *dname, unsigned kind, struct ev_what *w)
{
	size_t n = dname ? strlen(dname) : 0, cut = 0;

	if (n == 0 || n > OWN_DNAME_MAX)
		return 0;
	for (size_t i = 0; i < v->nowners; i++) {
		size_t k = strlen(v->ns[i]);
		if (n > k && strcmp(dname + n - k, v->ns[i]) == 0) {
			w->owner = v->owner[i];
			cut = n - k;
			break;
		}
	}
	if (w->owner == NULL && !(v->admin && dname_shape(dname, &cut)))
		return 0;
	w->kind = kind;
	snprintf(w->name, sizeof(w->name), "%.*s", (int)cut, dname);
	return 1;
}

/* What EV is about, when V may see it: 1 and W filled, else 0. */
static int
what_of(const struct ev_view *v, json_object *ev, struct ev_what *w)
{
	const char *type = jx_str(ev, "Type");
	json_object *actor = jx_obj(ev, "Actor"), *attrs = jx_obj(actor, "Attributes");

	memset(w, 0, sizeof(*w));
	w->id = jx_str(actor, "ID");
	if (type == NULL || w->id == NULL)
		return 0;
	if (strcmp(type, "container") == 0)
		return what_container(v, attrs, w);
	if (strcmp(type, "volume") == 0) {
		int r = what_named(v, w->id, EV_VOLUME, w);
		w->id = NULL; /* a volume's ID is its Docker name */
		return r;
	}
	if (strcmp(type, "network") == 0)
		return what_named(v, jx_str(attrs, "name"), EV_NETWORK, w);
	if (strcmp(type, "image") == 0 && label(attrs, LBL_CATALOG)) {
		w->kind = EV_BUILD;
		snprintf(w->name, sizeof(w->name), "%s", label(attrs, LBL_CATALOG));
		return 1;
	}
	return 0;
}

/* VAL without the caller's image namespace prefix ("berth.alice.1a2b3c4d/"), doors/dkimages.c. */
static const char *
image_shown(const struct ev_view *v, const char *val)
{
	for (size_t i = 0; val && i < v->nowners; i++) {
		size_t k = strlen(v->ns[i]);
		if (strncmp(val, "berth", 5) == 0 && strncmp(val + 5, v->ns[i], k) == 0 &&
		    val[5 + k] == '/')
			return val + 6 + k;
	}
	return val;
}

/* 1 when V's action filter (Docker's event=) lets ACTION through. */
static int
action_wanted(const struct ev_view *v, const char *action)
{
	for (size_t i = 0; v->actions && i < json_object_array_length(v->actions); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(v->actions, i)),
		           action) == 0)
			return 1;
	return v->actions == NULL;
}

/* EV (dockerd's event, changed in place) as V's caller sees it: their names, no berth labels. */
static void
docker_names(const struct ev_view *v, json_object *ev, const struct ev_what *w)
{
	json_object *actor = jx_obj(ev, "Actor"), *attrs = jx_obj(actor, "Attributes");
	json_object *keep = json_object_new_object();

	if (attrs) {
		json_object_object_foreach(attrs, k, val)
		{
			if (strncmp(k, "berth.", 6) != 0)
				jx_add_ref(keep, k, val);
		}
	}
	if (w->kind == EV_VOLUME) {
		jx_add_str(actor, "ID", w->name);
	} else if (w->kind == EV_NETWORK) {
		jx_add_str(keep, "name", w->name);
	} else {
		jx_add_str(keep, "name", own_shown(label(attrs, LBL_NAME), jx_str(attrs, "name")));
		jx_add_str(keep, "image", image_shown(v, jx_str(attrs, "image")));
		if (jx_str(ev, "from"))
			jx_add_str(ev, "from", image_shown(v, jx_str(ev, "from")));
	}
	json_object_object_add(actor, "Attributes", keep);
}

int
ev_sse(const struct ev_view *v, const char *line, size_t n, char *out, size_t cap)
{
	json_object *ev, *d = NULL;
	struct ev_what w;
	char err[64], action[64];
	long long id;
	int len = 0;

	ev = jx_parse(line, n, err, sizeof(err));
	if (ev == NULL || !json_object_is_type(ev, json_type_object))
		goto out;
	id = (long long)jx_int(ev, "timeNano", 0);
	if (id <= 0 || id <= v->after || !what_of(v, ev, &w) || !(v->types & w.kind))
		goto out;
	/* "exec_start: sh -c ..." names a command: the action is the word before it. */
	snprintf(action, sizeof(action), "%s", jx_str(ev, "Action") ? jx_str(ev, "Action") : "");
	action[strcspn(action, ":")] = '\0';
	if (v->docker) {
		if (!action_wanted(v, action))
			goto out;
		docker_names(v, ev, &w);
		len = snprintf(out, cap, "%s\n", jx_text(ev));
		if (len < 0 || (size_t)len >= cap)
			len = -1;
		goto out;
	}
	d = json_object_new_object();
	jx_add_str(d, "type", ev_type_name(w.kind));
	jx_add_str(d, "action", action);
	jx_add_str(d, "name", w.name);
	jx_add_str(d, "id", w.id);
	jx_add_str(d, "owner", w.owner);
	jx_add_int(d, "time", jx_int(ev, "time", id / 1000000000));
	len = snprintf(out, cap, "id: %lld\nevent: %s\ndata: %s\n\n", id, ev_type_name(w.kind),
	               jx_text(d));
	if (len < 0 || (size_t)len >= cap)
		len = -1;
out:
	json_object_put(d);
	json_object_put(ev);
	return len;
}

/* ---- lines ------------------------------------------------------------------ */

static int
lines_keep(struct ev_lines *l, const char *buf, size_t n)
{
	if (n == 0)
		return 0; /* a newline right away, or the buffer not made yet */
	if (l->len + n > EV_LINE_MAX) {
		l->len = 0;
		l->skip = 1;
		return 0;
	}
	if (l->len + n > l->cap) {
		size_t nc = l->cap ? l->cap : 512;
		char *nb;
		while (nc < l->len + n)
			nc *= 2;
		if ((nb = realloc(l->buf, nc)) == NULL)
			return -1;
		l->buf = nb;
		l->cap = nc;
	}
	memcpy(l->buf + l->len, buf, n);
	l->len += n;
	return 0;
}

int
ev_lines_feed(struct ev_lines *l, const char *buf, size_t n, ev_line_fn fn, void *arg)
{
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t k = nl ? (size_t)(nl - buf) : n;
		int r = 0;

		if (!l->skip && lines_keep(l, buf, k) != 0)
			return -1;
		if (nl) {
			if (!l->skip && l->len)
				r = fn(l->buf, l->len, arg);
			l->len = 0;
			l->skip = 0;
			k++;
		}
		buf += k;
		n -= k;
		if (r != 0)
			return r;
	}
	return 0;
}

void
ev_lines_free(struct ev_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}

/* ---- the mode ---------------------------------------------------------------- */

struct ev_state {
	struct ev_view v;
	struct ev_lines lines;
	struct event *keep;
};

static void
keepalive(evutil_socket_t fd, short what, void *arg)
{
	static const char ka[] = ": keepalive\n\n";

	(void)fd, (void)what;
	rl_write(arg, ka, sizeof(ka) - 1);
}

int
ev_start(struct stream *s)
{
	struct ev_state *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	s->ms = st;
	ev_view_of(&st->v, s->tk);
	st->keep = event_new(s->base, -1, EV_PERSIST, keepalive, s);
	if (st->keep == NULL) {
		rl_fail(s, B_INTERNAL, NULL, "out of memory");
		return -1;
	}
	return rl_start_default(s);
}

int
ev_begin(struct stream *s, struct dkc *d)
{
	static const char hello[] = "retry: 2000\n\n";
	struct ev_state *st = s->ms;
	struct timeval tv = {.tv_sec = EV_KEEPALIVE_S};

	(void)d;
	/* The Docker door's clients read dockerd's own stream: JSON lines, no keepalive. */
	if (st->v.docker) {
		rl_head(s, 200, "application/json", NULL);
		return 0;
	}
	rl_head(s, 200, "text/event-stream; charset=utf-8", "Cache-Control: no-cache\r\n");
	event_add(st->keep, &tv);
	return rl_write(s, hello, sizeof(hello) - 1);
}

static int
one_line(const char *line, size_t n, void *arg)
{
	static char out[EV_OUT_MAX];
	struct stream *s = arg;
	struct ev_state *st = s->ms;
	int k = ev_sse(&st->v, line, n, out, sizeof(out));

	return k > 0 ? rl_write(s, out, (size_t)k) : 0;
}

int
ev_feed(const char *buf, size_t n, void *arg)
{
	struct dkc *d = arg;
	struct ev_state *st = d->s->ms;

	return ev_lines_feed(&st->lines, buf, n, one_line, d->s);
}

void
ev_end(struct dkc *d, int ok)
{
	(void)ok; /* dockerd ended the stream (or broke): the client reconnects and resumes */
	rl_finish(d->s);
}

void
ev_free(struct stream *s)
{
	struct ev_state *st = s->ms;

	if (st == NULL)
		return;
	if (st->keep)
		event_free(st->keep);
	ev_lines_free(&st->lines);
	free(st);
	s->ms = NULL;
}
