/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP on an sd-event loop through libcurl's multi interface. An HttpSession
 * is one easy handle with its own cookie store, doing one request at a time,
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

typedef struct HttpOptions {
        uint64_t timeout_usec;
        bool tls_verify;
        const char *ca_file;
        size_t body_max;
} HttpOptions;

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

/* URL-encodes s for a form body or a query. */
char *http_escape(HttpSession *s, const char *str);

/*
 * True for an http:// URL whose host is not loopback (localhost, 127.0.0.0/8,
 * [::1]): what is sent there (a token, a password) crosses a network in clear.
 */
bool http_url_is_cleartext_remote(const char *url);
