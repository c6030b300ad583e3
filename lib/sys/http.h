/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP on an sd-event loop through libcurl's multi interface. An HttpSession
 * is one easy handle with its own cookie store (or its cache's), doing one request at a time,
 * so a login followed by a page fetch shares the session cookie. Redirects are
 * never followed: callers want to see them. Bodies are capped; every request
 * has a total and a connect timeout.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "util.h"

typedef struct HttpClient HttpClient;
typedef struct HttpSession HttpSession;
typedef struct HttpCache HttpCache;

typedef struct HttpOptions {
        uint64_t timeout_usec;
        bool tls_verify;
        const char *ca_file;
        size_t body_max;
        /*
         * A server that does not answer yet (connection refused, or a proxy's
         * 502/503/504 for it) is asked again every HTTP_RETRY_USEC for this long
         * from the request's start: a web server restarted a moment ago is
         * booting. 0: the first answer is the answer.
         */
        uint64_t retry_unanswered_usec;
} HttpOptions;

#define HTTP_RETRY_USEC (250 * USEC_PER_MSEC)

typedef struct HttpResponse {
        int curl_code;        /* CURLcode; 0 when a response arrived */
        const char *error;    /* curl's words when curl_code != 0 */
        long status;          /* HTTP status, 0 when none */
        const char *location; /* absolute redirect target, or NULL */
        const char *content_type;
        const Buf *body;
        bool body_truncated; /* the body was larger than body_max */
        uint64_t duration_usec;
} HttpResponse;

typedef void (*HttpDone)(HttpSession *s, const HttpResponse *resp, void *userdata);

int http_client_new(HttpClient **ret, sd_event *e);
HttpClient *http_client_free(HttpClient *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpClient *, http_client_free);

int http_session_new(HttpSession **ret, HttpClient *c, const HttpOptions *o);
/* Aborts a request in flight (its callback is not called). */
HttpSession *http_session_free(HttpSession *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpSession *, http_session_free);

/* Adds a request header ("Name: value") sent with every request of the session. */
int http_session_add_header(HttpSession *s, const char *header);

/*
 * Starts a GET, or a POST of an application/x-www-form-urlencoded body when
 * form is given. Extra headers apply to this request only. One at a time:
 * -EBUSY while a request is in flight.
 */
int http_session_request(HttpSession *s, const char *url, const char *form,
                         char *const *extra_headers, HttpDone done, void *userdata);

/*
 * A run's shared answers. Sessions given the same cache share one cookie store,
 * and a request the same as one made before through the cache (the same
 * headers, URL and form) gets that one's response instead of a second request;
 * while the first is in flight, the second waits for it. So the apps of one
 * run, each logging in and reading the same pages, cost the server one login
 * and one read, and a run may fetch what its checks will ask before they ask.
 * Responses are kept for the cache's life only (one run), at most
 * HTTP_CACHE_ENTRIES_MAX of them; keys hold secrets and are wiped. The cache
 * must outlive its sessions.
 */
#define HTTP_CACHE_ENTRIES_MAX 64
int http_cache_new(HttpCache **ret, sd_event *e);
HttpCache *http_cache_free(HttpCache *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(HttpCache *, http_cache_free);
/* Between requests; NULL: the next requests ask the server (and keep their own cookies). */
int http_session_set_cache(HttpSession *s, HttpCache *c);
/* How many requests the cache answered without asking the server (for tests and benchmarks). */
unsigned http_cache_hits(const HttpCache *c);

/* URL-encodes s for a form body or a query. */
char *http_escape(HttpSession *s, const char *str);

/*
 * True for an http:// URL whose host is not loopback (localhost, 127.0.0.0/8,
 * [::1]): what is sent there (a token, a password) crosses a network in clear.
 */
bool http_url_is_cleartext_remote(const char *url);
