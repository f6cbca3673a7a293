/*
 * qmp_parse: the pure half of the QMP client: splits QEMU's byte stream into lines and classifies
 * each JSON message (greeting, return, error, event). No sockets, no loop: unit-tested against
 * recorded QEMU 7.2 transcripts. Input is untrusted: sizes are capped and every member's type is
 * checked before use; nothing returned points into jansson objects.
 */
#include "qmp.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

int qmp_line_next(const struct buf *in, const char **line, size_t *len)
{
	const uint8_t *nl;
	size_t scan = in->len < QMP_LINE_MAX + 1 ? in->len : QMP_LINE_MAX + 1;

	nl = scan ? memchr(in->data, '\n', scan) : NULL;
	if (!nl)
		return in->len > QMP_LINE_MAX ? -EMSGSIZE : 0;
	*line = (const char *)in->data;
	*len = (size_t)(nl - in->data);
	return 1;
}

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* The JSON text of v, cut to fit, for logs. */
static void dump_cut(json_t *v, char *out, size_t n)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	copy_str(out, n, s);
	free(s);
}

static void get_status(json_t *v, char *out, size_t n)
{
	json_t *st = json_is_object(v) ? json_object_get(v, "status") : NULL;

	copy_str(out, n, json_is_string(st) ? json_string_value(st) : "");
}

static int parse_greeting(json_t *qmp, struct qmp_msg *out, struct errmsg *reterr)
{
	json_t *q = json_object_get(json_object_get(qmp, "version"), "qemu");
	static const char *const keys[] = { "major", "minor", "micro" };

	if (!json_is_object(qmp))
		return errmsg_set(reterr, -EBADMSG, "QMP: not an object");
	out->kind = QMP_MSG_GREETING;
	for (int i = 0; i < 3; i++) {
		json_t *v = json_object_get(q, keys[i]);

		out->version[i] = json_is_integer(v) && json_integer_value(v) >= 0 &&
						  json_integer_value(v) < 100000
					  ? (int)json_integer_value(v)
					  : -1;
	}
	return 0;
}

static int parse_error(json_t *err, struct qmp_msg *out, struct errmsg *reterr)
{
	json_t *cls = json_object_get(err, "class");
	json_t *desc = json_object_get(err, "desc");

	if (!json_is_object(err) || !json_is_string(cls))
		return errmsg_set(reterr, -EBADMSG, "error: expected an object with a class");
	out->kind = QMP_MSG_ERROR;
	copy_str(out->name, sizeof(out->name), json_string_value(cls));
	copy_str(out->desc, sizeof(out->desc), json_is_string(desc) ? json_string_value(desc) : "");
	return 0;
}

static int parse_event(json_t *root, json_t *name, struct qmp_msg *out, struct errmsg *reterr)
{
	json_t *data = json_object_get(root, "data");

	if (!json_is_string(name) || json_string_length(name) == 0)
		return errmsg_set(reterr, -EBADMSG, "event: name not a non-empty string");
	if (json_string_length(name) >= QMP_NAME_MAX)
		return errmsg_set(reterr, -EBADMSG, "event: name over %d bytes", QMP_NAME_MAX - 1);
	out->kind = QMP_MSG_EVENT;
	copy_str(out->name, sizeof(out->name), json_string_value(name));
	dump_cut(data, out->desc, sizeof(out->desc));
	get_status(data, out->status, sizeof(out->status));
	return 0;
}

int qmp_parse(const char *line, size_t len, struct qmp_msg *out, struct errmsg *reterr)
{
	json_error_t jerr;
	json_t *root, *v;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > QMP_LINE_MAX)
		return errmsg_set(reterr, -EMSGSIZE, "line over %d bytes", QMP_LINE_MAX);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return errmsg_set(reterr, -EBADMSG, "not JSON: %s", jerr.text);
	if (!json_is_object(root)) {
		r = errmsg_set(reterr, -EBADMSG, "not an object");
		goto out;
	}
	v = json_object_get(root, "id");
	if (v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			r = errmsg_set(reterr, -EBADMSG, "id: not an unsigned integer");
			goto out;
		}
		out->has_id = true;
		out->id = (uint64_t)json_integer_value(v);
	}
	if ((v = json_object_get(root, "return"))) {
		out->kind = QMP_MSG_RETURN;
		dump_cut(v, out->desc, sizeof(out->desc));
		get_status(v, out->status, sizeof(out->status));
		r = 0;
	} else if ((v = json_object_get(root, "error"))) {
		r = parse_error(v, out, reterr);
	} else if ((v = json_object_get(root, "event"))) {
		r = parse_event(root, v, out, reterr);
	} else if ((v = json_object_get(root, "QMP"))) {
		r = parse_greeting(v, out, reterr);
	} else {
		r = errmsg_set(reterr, -EBADMSG, "no return, error, event or QMP member");
	}
out:
	json_decref(root);
	return r;
}

int qmp_encode_cmd(const char *cmd, const char *args_json, uint64_t id, struct buf *out,
		   struct errmsg *reterr)
{
	json_t *root = NULL, *args = NULL;
	json_error_t jerr;
	char *s = NULL;
	int r;

	root = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (!root)
		return -ENOMEM;
	if (args_json) {
		args = json_loads(args_json, 0, &jerr);
		if (!json_is_object(args)) {
			r = errmsg_set(reterr, -EINVAL, "%s arguments: not a JSON object", cmd);
			goto out;
		}
		if (json_object_set(root, "arguments", args) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	s = json_dumps(root, JSON_COMPACT);
	if (!s) {
		r = -ENOMEM;
		goto out;
	}
	r = buf_reserve(out, strlen(s) + 2);
	if (r < 0) {
		r = errmsg_set(reterr, r, "qmp output queue full");
		goto out;
	}
	(void)buf_append(out, s, strlen(s));
	(void)buf_append(out, "\r\n", 2);
out:
	free(s);
	json_decref(args);
	json_decref(root);
	return r;
}
