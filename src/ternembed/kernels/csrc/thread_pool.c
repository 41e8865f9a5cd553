/* A minimal persistent thread pool (pthreads) for the ternary kernels.
 *
 * Built for CPUs shared with other work: tasks are claimed dynamically, the caller runs tasks too,
 * and it only waits for tasks that some thread has actually claimed, never for a worker that has not
 * woken up yet (a late worker finds the job finished and goes back to sleep). Claims carry the job's
 * generation in the high 32 bits of the ticket, so a late worker can never take a task of a newer
 * job by mistake. Idle workers yield for a short while, then sleep on a condition variable.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "ternary_kernels.h"

#define TE_MAX_THREADS 256
#define TE_SPIN_NS 50000

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cond = PTHREAD_COND_INITIALIZER;
static int worker_count = 0;
static atomic_uint generation = 0;      /* bumped once per job */
static atomic_ullong ticket = 0;        /* generation << 32 | next task index */
static atomic_llong finished_tasks = 0;
static _Atomic(te_pool_fn) job_fn = 0;
static _Atomic(void *) job_ctx = 0;
static atomic_llong job_tasks = 0;
static atomic_int job_threads = 0;
static atomic_int hold = 0; /* while set, idle workers spin instead of sleeping (te_pool_hold) */

/* One spin-wait step: a pause instruction where there is one (cheap, keeps the core for the job). */
static void relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#else
    sched_yield();
#endif
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Claim and run tasks of job `gen` until none is left or the job has changed. */
static void run_tasks(unsigned gen, int thread) {
    for (;;) {
        unsigned long long current = atomic_load(&ticket);
        if ((unsigned)(current >> 32) != gen) return;
        int64_t task = (int64_t)(current & 0xFFFFFFFFull);
        if (task >= atomic_load(&job_tasks)) return;
        if (!atomic_compare_exchange_weak(&ticket, &current, current + 1)) continue;
        /* The job cannot finish before this claimed task does, so fn and ctx are still this job's. */
        atomic_load(&job_fn)(atomic_load(&job_ctx), task, thread);
        atomic_fetch_add(&finished_tasks, 1);
    }
}

static unsigned start_generation[TE_MAX_THREADS];

static void *worker_main(void *arg) {
    int thread = (int)(intptr_t)arg;
    unsigned seen = start_generation[thread]; /* jobs published after the worker was created */
    for (;;) {
        int64_t start = now_ns();
        while (atomic_load(&generation) == seen && (atomic_load(&hold) || now_ns() - start < TE_SPIN_NS)) relax();
        if (atomic_load(&generation) == seen) {
            pthread_mutex_lock(&wake_lock);
            while (atomic_load(&generation) == seen && !atomic_load(&hold)) pthread_cond_wait(&wake_cond, &wake_lock);
            pthread_mutex_unlock(&wake_lock);
            if (atomic_load(&generation) == seen) continue; /* woken by te_pool_hold: spin for the next job */
        }
        seen = atomic_load(&generation);
        if (thread < atomic_load(&job_threads)) run_tasks(seen, thread);
    }
    return 0;
}

static void forget_workers_after_fork(void) {
    /* Threads do not survive fork(): the child starts with an empty pool. */
    worker_count = 0;
    pthread_mutex_init(&run_lock, 0);
    pthread_mutex_init(&wake_lock, 0);
    pthread_cond_init(&wake_cond, 0);
}

static void ensure_workers(int wanted) {
    static int fork_handler_installed = 0;
    if (!fork_handler_installed) {
        pthread_atfork(0, 0, forget_workers_after_fork);
        fork_handler_installed = 1;
    }
    while (worker_count < wanted && worker_count < TE_MAX_THREADS - 1) {
        pthread_t handle;
        start_generation[worker_count + 1] = atomic_load(&generation);
        if (pthread_create(&handle, 0, worker_main, (void *)(intptr_t)(worker_count + 1)) != 0) break;
        pthread_detach(handle);
        worker_count++;
    }
}

/* Keep up to nthreads - 1 workers awake and spinning until te_pool_hold(0): a sequence of small jobs
 * (one encoder forward) then pays no wake-up latency per job. Waking happens at once, in the background. */
void te_pool_hold(int nthreads) {
    if (nthreads > 1) {
        pthread_mutex_lock(&run_lock);
        ensure_workers(nthreads - 1);
        pthread_mutex_unlock(&run_lock);
    }
    pthread_mutex_lock(&wake_lock);
    atomic_store(&hold, nthreads > 1);
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
}

void te_pool_run(te_pool_fn fn, void *ctx, int64_t ntasks, int nthreads) {
    if (nthreads > ntasks) nthreads = (int)ntasks;
    if (nthreads <= 1) {
        for (int64_t task = 0; task < ntasks; task++) fn(ctx, task, 0);
        return;
    }
    pthread_mutex_lock(&run_lock);
    ensure_workers(nthreads - 1);
    if (nthreads > worker_count + 1) nthreads = worker_count + 1;
    unsigned gen = atomic_load(&generation) + 1;
    atomic_store(&job_fn, fn);
    atomic_store(&job_ctx, ctx);
    atomic_store(&job_tasks, ntasks);
    atomic_store(&job_threads, nthreads);
    atomic_store(&finished_tasks, 0);
    atomic_store(&ticket, (unsigned long long)gen << 32);
    pthread_mutex_lock(&wake_lock);
    atomic_store(&generation, gen);
    pthread_cond_broadcast(&wake_cond);
    pthread_mutex_unlock(&wake_lock);
    run_tasks(gen, 0);
    while (atomic_load(&finished_tasks) < ntasks) relax();
    pthread_mutex_unlock(&run_lock);
}
