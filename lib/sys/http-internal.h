/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What http.c and http-cache.c share: the client, the session and the cache
 * as they are, and the steps of a request either side calls. Nothing else
 * includes this.
 */
#pragma once

#include <curl/curl.h>

#include "http.h"

struct HttpClient {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
};

typedef struct CacheEntry {
        char *key; /* holds secrets (the token header, a password form): wiped */
        size_t key_len;
        bool done;
        HttpSession *filler;   /* whose transfer answers it, until done */
        HttpSession **waiters; /* who asked the same while it was in flight */
        size_t n_waiters;
        int curl_code;
        char *error;
        long status;
        char *location;
        char *content_type;
        Buf body;
        bool body_truncated;
        uint64_t duration_usec;
} CacheEntry;

struct HttpCache {
        sd_event *event;
        CURLSH *share; /* the cookie store of every session of the cache */
        CacheEntry *entries[HTTP_CACHE_ENTRIES_MAX];
        size_t n_entries;
        unsigned hits;
};

struct HttpSession {
        HttpClient *client;
        HttpCache *cache;
        CacheEntry *filling; /* the cache's entry this session's transfer answers */
        CacheEntry *waiting; /* the one whose answer it waits for (or got: 'deliver') */
        sd_event_source *deliver;
        char *key; /* this request's cache key: wiped */
        size_t key_len;
        CURL *easy;
        struct curl_slist *headers;     /* for every request */
        struct curl_slist *req_headers; /* this request: headers + extras */
        char *form;                     /* this request's body; curl reads it until the end */
        size_t form_len;
        HttpOptions options;
        Buf body;
        char errbuf[CURL_ERROR_SIZE];
        bool busy;
        uint64_t start_usec;
        sd_event_source *retry; /* asks again: the server did not answer yet */
        HttpDone done;
        void *userdata;
};

/* curl's allocator (wiping), once per process. */
int http_global_init(void);
/* The request prepared on the session's handle, sent. */
int http_session_start_transfer(HttpSession *s);
/* This request's form (it holds a password) wiped and freed. */
void http_session_form_erase(HttpSession *s);
/* Sends the prepared request through the session's cache: answered, waiting or sent. */
int http_cache_dispatch(HttpSession *s, const char *url, const char *form);
/* The session leaves its cache: waits no more, and hands on what it was to answer. */
void http_cache_leave(HttpSession *s);
/* The answer of the session's request, kept and handed to those who waited. */
void http_cache_fill(HttpSession *s, const HttpResponse *resp);
