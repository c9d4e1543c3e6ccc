/* accept_bench: does multishot accept pay? One io_uring server accepts and closes connections
 * as fast as a client process can open them; the server re-arms a single-shot accept after each
 * connection ("single") or arms one multishot accept ("multishot"). Both modes run in every
 * round, the order alternating, in one run. The client (a forked process on the other CPU,
 * THREADS threads) connects and drops each connection with an RST (SO_LINGER 0, so that no
 * TIME_WAIT exhausts the ports); the server is on CPU 0.
 *
 * Prints accepts/s per mode and round, then the medians and the median per-round ratio
 * multishot/single.
 *
 * Run: build-bench/bench/accept_bench [SECONDS [ROUNDS [THREADS]]]   (defaults 1, 5, 2)
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

struct client_args
{
    struct sockaddr_in addr;
    double until;
};

static void* client_thread(void* raw)
{
    const struct client_args* args = raw;
    const struct linger reset = {.l_onoff = 1, .l_linger = 0};
    while (now_s() < args->until)
    {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
        connect(fd, (const struct sockaddr*)&args->addr, sizeof args->addr);
        close(fd);
    }
    return NULL;
}

static pid_t start_client(const struct sockaddr_in* addr, double seconds, int threads)
{
    const pid_t pid = fork();
    if (pid != 0)
    {
        return pid;
    }
    pin_to(1);
    struct client_args args = {.addr = *addr, .until = now_s() + seconds};
    pthread_t ids[64];
    for (int i = 0; i < threads && i < 64; ++i)
    {
        pthread_create(&ids[i], NULL, client_thread, &args);
    }
    for (int i = 0; i < threads && i < 64; ++i)
    {
        pthread_join(ids[i], NULL);
    }
    _exit(0);
}

static void queue_accept(struct io_uring* ring, int listener, int multishot)
{
    struct io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (multishot)
    {
        io_uring_prep_multishot_accept(sqe, listener, NULL, NULL, SOCK_CLOEXEC);
    }
    else
    {
        io_uring_prep_accept(sqe, listener, NULL, NULL, SOCK_CLOEXEC);
    }
    io_uring_sqe_set_data64(sqe, 1);
}

/* Accepts for `seconds`; returns accepts per second. */
static double run(int multishot, double seconds, int threads)
{
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(listener, 4096) != 0 ||
        getsockname(listener, (struct sockaddr*)&addr, &len) != 0)
    {
        perror("listen");
        exit(1);
    }
    struct io_uring ring;
    if (io_uring_queue_init(256, &ring, 0) < 0)
    {
        fprintf(stderr, "io_uring_queue_init failed\n");
        exit(1);
    }
    queue_accept(&ring, listener, multishot);
    const pid_t client = start_client(&addr, seconds, threads);
    const double begin = now_s();
    const double end = begin + seconds;
    long accepted = 0;
    for (;;)
    {
        const double left = end - now_s();
        if (left <= 0)
        {
            break;
        }
        struct __kernel_timespec wait = {.tv_sec = (long long)left,
                                         .tv_nsec = (long long)((left - (long long)left) * 1e9)};
        struct io_uring_cqe* cqe = NULL;
        io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &wait, NULL);
        unsigned head;
        unsigned seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            if (cqe->res >= 0)
            {
                close(cqe->res);
                ++accepted;
            }
            if (!multishot || !(cqe->flags & IORING_CQE_F_MORE))
            {
                queue_accept(&ring, listener, multishot);
            }
            ++seen;
        }
        io_uring_cq_advance(&ring, seen);
    }
    const double elapsed = now_s() - begin;
    waitpid(client, NULL, 0);
    io_uring_queue_exit(&ring);
    close(listener);
    return (double)accepted / elapsed;
}

static int compare(const void* a, const void* b)
{
    const double x = *(const double*)a;
    const double y = *(const double*)b;
    return (x > y) - (x < y);
}

static double median(double* values, int n)
{
    qsort(values, (size_t)n, sizeof *values, compare);
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int main(int argc, char** argv)
{
    const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    const int threads = argc > 3 ? atoi(argv[3]) : 2;
    if (rounds > 64)
    {
        rounds = 64;
    }
    pin_to(0);
    double single[64];
    double multi[64];
    double ratio[64];
    printf("accept_bench: %.1f s per run, %d rounds, %d client threads\n", seconds, rounds,
           threads);
    for (int r = 0; r < rounds; ++r)
    {
        if (r % 2 == 0)
        {
            single[r] = run(0, seconds, threads);
            multi[r] = run(1, seconds, threads);
        }
        else
        {
            multi[r] = run(1, seconds, threads);
            single[r] = run(0, seconds, threads);
        }
        ratio[r] = multi[r] / single[r];
        printf("round %d: single %.0f multishot %.0f accepts/s (ratio %.2f)\n", r + 1, single[r],
               multi[r], ratio[r]);
        fflush(stdout);
    }
    printf("median accepts/s: single %.0f, multishot %.0f; median ratio multishot/single %.2f\n",
           median(single, rounds), median(multi, rounds), median(ratio, rounds));
    return 0;
}
