/*
 * containers.c - the containers API (issue: containers with ownership,
 * policy, state directory and audit).
 */
#include "berth.h"
#include "cfg.h"
#include "containers.h"
#include "docker.h"
#include "json.h"
#include "log.h"
#include "route.h"
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds /containers/json?all=1&filters={"label":[...]} for the given labels. */
static char *
list_path(int all, const char *const *labels, size_t n)
{
	json_object *f = json_object_new_object(), *arr = json_object_new_array();
	char *enc, *path;
	size_t len;

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(labels[i]));
	json_object_object_add(f, "label", arr);
	enc = jx_urlenc(jx_text(f));
	json_object_put(f);
	if (enc == NULL)
		return NULL;
	len = strlen(enc) + 64;
	path = malloc(len);
	if (path)
		snprintf(path, len, "/containers/json?all=%d&filters=%s", all, enc);
	free(enc);
	return path;
}

int
ct_cleanup_instance(void)
{
	char inst[160], *path;
	const char *labels[2] = {LBL_MANAGED "=1", inst};
	struct dk_resp d;
	int failed = 0;
	size_t n;

	snprintf(inst, sizeof(inst), LBL_INSTANCE "=%s", g_cfg->instance);
	path = list_path(1, labels, 2);
	if (path == NULL || dk_call("GET", path, NULL, NULL, 0, &d) != B_OK || d.status != 200) {
		free(path);
		fprintf(stderr, "berth-fcgi: cannot list containers of instance %s\n",
		        g_cfg->instance);
		return -1;
	}
	free(path);
	n = json_object_is_type(d.json, json_type_array) ? json_object_array_length(d.json) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *id = jx_str(json_object_array_get_idx(d.json, i), "Id");
		char p[160];
		struct dk_resp x;
		if (id == NULL || strlen(id) > 64)
			continue;
		snprintf(p, sizeof(p), "/containers/%s?force=1&v=1", id);
		if (dk_call("DELETE", p, NULL, NULL, 0, &x) != B_OK ||
		    (x.status != 204 && x.status != 404))
			failed = 1;
		else
			st_del(ST_CONTAINERS, id);
		dk_resp_free(&x);
	}
	dk_resp_free(&d);
	return failed ? -1 : 0;
}
