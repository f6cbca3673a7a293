/*
 * wire_state: the job lifecycle state names of schemas/event.md and which of them are final.
 * Names are the wire spelling; this file must stay in sync with that document.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"

static const char *const state_names[WIRE_STATE_COUNT_] = {
	[WIRE_STATE_QUEUED] = "queued",
	[WIRE_STATE_CLAIMED] = "claimed",
	[WIRE_STATE_STARTING] = "starting",
	[WIRE_STATE_RUNNING] = "running",
	[WIRE_STATE_SUCCEEDED] = "succeeded",
	[WIRE_STATE_FAILED] = "failed",
	[WIRE_STATE_TIMED_OUT] = "timed_out",
	[WIRE_STATE_CANCELLED] = "cancelled",
	[WIRE_STATE_DEAD] = "dead",
};

const char *wire_state_name(enum wire_state s)
{
	if ((unsigned)s >= WIRE_STATE_COUNT_)
		return "invalid";
	return state_names[s];
}

int wire_state_parse(const char *name, enum wire_state *ret)
{
	if (!name)
		return -EINVAL;
	for (unsigned i = 0; i < WIRE_STATE_COUNT_; i++) {
		if (strcmp(state_names[i], name) == 0) {
			*ret = (enum wire_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool wire_state_final(enum wire_state s)
{
	return s >= WIRE_STATE_SUCCEEDED && s < WIRE_STATE_COUNT_;
}
