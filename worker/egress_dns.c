/*
 * egress_dns: name resolution for the egress proxy without blocking the loop. A few resolver
 * threads (started on first use) run getaddrinfo(3) on queued requests; finished requests go on
 * a done list and an ev_async wakes the loop, which calls the requester back. A cancelled
 * request is dropped wherever it is (a running lookup finishes and is then discarded). The
 * threads touch only the request structs under the mutex; callbacks run on the loop only.
 */
#include "egress.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#define LOG_MOD "egress"
#include "log.h"

#define DNS_THREADS 4

struct egress_dns_req {
	struct egress_dns_req *next;
	char host[WIRE_NET_HOST_MAX + 1];
	egress_dns_cb cb;
	void *ud;
	bool cancelled, running;
	int err;
	struct sockaddr_storage addrs[EGRESS_ADDRS_MAX];
	size_t naddrs;
};

static struct {
	bool started;
	struct ev_loop *loop;
	ev_async async;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct egress_dns_req *queue, **queue_tail, *done;
} D = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void lookup(struct egress_dns_req *r)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	int g = getaddrinfo(r->host, NULL, &hints, &res);

	if (g == EAI_NONAME || g == EAI_NODATA) {
		r->err = -ENOENT;
		return;
	}
	if (g != 0) {
		r->err = -EAGAIN;
		return;
	}
	for (ai = res; ai && r->naddrs < EGRESS_ADDRS_MAX; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(r->addrs[0]))
			continue;
		memcpy(&r->addrs[r->naddrs++], ai->ai_addr, ai->ai_addrlen);
	}
	freeaddrinfo(res);
	r->err = r->naddrs ? 0 : -ENOENT;
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&D.mu);
	for (;;) {
		struct egress_dns_req *r;

		while (!D.queue)
			pthread_cond_wait(&D.cv, &D.mu);
		r = D.queue;
		D.queue = r->next;
		if (!D.queue)
			D.queue_tail = &D.queue;
		r->running = true;
		pthread_mutex_unlock(&D.mu);
		lookup(r);
		pthread_mutex_lock(&D.mu);
		r->running = false;
		r->next = D.done;
		D.done = r;
		ev_async_send(D.loop, &D.async);
	}
	return NULL;
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents)
{
	struct egress_dns_req *list, *r;

	(void)loop;
	(void)w;
	(void)revents;
	pthread_mutex_lock(&D.mu);
	list = D.done;
	D.done = NULL;
	pthread_mutex_unlock(&D.mu);
	while ((r = list)) {
		list = r->next;
		if (!r->cancelled)
			r->cb(r->err, r->addrs, r->naddrs, r->ud);
		free(r);
	}
}

static int start(struct ev_loop *loop)
{
	sigset_t all, old;
	int started = 0;

	D.loop = loop;
	D.queue_tail = &D.queue;
	ev_async_init(&D.async, on_async);
	ev_async_start(loop, &D.async);
	ev_unref(loop);		/* the watcher alone must not keep the loop running */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);	/* signals stay with the loop thread */
	for (int i = 0; i < DNS_THREADS; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, NULL) == 0) {
			pthread_detach(t);
			started++;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!started) {
		log_error("egress.dns_threads", "err=no resolver thread could start");
		return -EAGAIN;
	}
	D.started = true;
	return 0;
}

int egress_dns_start(struct ev_loop *loop, const char *host, egress_dns_cb cb, void *ud,
		     struct egress_dns_req **ret)
{
	struct egress_dns_req *r;
	int e;

	if (!D.started && (e = start(loop)) < 0)
		return e;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	snprintf(r->host, sizeof(r->host), "%s", host);
	r->cb = cb;
	r->ud = ud;
	pthread_mutex_lock(&D.mu);
	*D.queue_tail = r;
	D.queue_tail = &r->next;
	pthread_cond_signal(&D.cv);
	pthread_mutex_unlock(&D.mu);
	*ret = r;
	return 0;
}

void egress_dns_cancel(struct egress_dns_req *r)
{
	struct egress_dns_req **pp;

	if (!r)
		return;
	pthread_mutex_lock(&D.mu);
	for (pp = &D.queue; *pp; pp = &(*pp)->next) {
		if (*pp == r) {		/* still queued: unlink and free now */
			*pp = r->next;
			if (D.queue_tail == &r->next)
				D.queue_tail = pp;
			pthread_mutex_unlock(&D.mu);
			free(r);
			return;
		}
	}
	r->cancelled = true;	/* running or done: freed by on_async */
	pthread_mutex_unlock(&D.mu);
}
