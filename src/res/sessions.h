/*
 * sessions.h - the reaper for test sessions (issue 20).  Testcontainers
 * removes what a test run made through Ryuk, a container that needs the
 * Docker socket mounted, which berth refuses.  So berth does Ryuk's work:
 * containers labelled org.testcontainers.session-id are one session of
 * their owner, every lookup or create of one of them marks the session
 * active, and the supervisor removes a session's containers (and their
 * anonymous volumes) once it has been quiet for berth.conf's
 * docker_door.session_idle seconds.  A test run that dies leaves nothing.
 */
#ifndef BERTH_SESSIONS_H
#define BERTH_SESSIONS_H

#include "berth.h"

#include <json-c/json.h>

#define ST_SESSIONS    "sessions"
#define LBL_TC_SESSION "org.testcontainers.session-id"

/*
 * OBJ (a container inspected or listed) was just used: when it belongs to a
 * session, that session is active now.  Cheap when it does not; writes the
 * session's record at most every few seconds when it does.
 */
void ses_touch(json_object *obj);

/* The supervisor's sweep: removes the containers of every session quiet for too long. */
int ses_reap(void);

struct bmod;
extern const struct bmod mod_sessions;

#endif
