/* echo_floor_server: the floor for bench/echo_bench.sh. The least a TCP echo server on io_uring
 * can be: one ring, one thread, one accept re-armed after each connection, and per connection a
 * 64-byte buffer cycling recv -> send -> recv. No multishot, no provided buffers, no batching
 * tricks: weft's examples/echo_server is compared with this.
 *
 * Run: build-bench/bench/echo_floor_server PORT [HOST]   (HOST defaults to 127.0.0.1)
 * Prints "listening on HOST:PORT" once it accepts (port 0 picks a free port and prints it);
 * exits 0 on SIGINT or SIGTERM.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

enum op_kind
{
    op_accept,
    op_recv,
    op_send,
};

/* One per connection, and one for the listener; its address is the SQE's user_data. */
struct conn
{
    enum op_kind op;
    int fd;
    unsigned len;  /* bytes received, to echo */
    unsigned sent; /* bytes of them sent so far */
    char buf[64];
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static struct io_uring_sqe* get_sqe(struct io_uring* ring)
{
    struct io_uring_sqe* sqe = io_uring_get_sqe(ring);
    while (sqe == NULL)
    {
        io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
    }
    return sqe;
}

static void queue_accept(struct io_uring* ring, struct conn* listener)
{
    struct io_uring_sqe* sqe = get_sqe(ring);
    io_uring_prep_accept(sqe, listener->fd, NULL, NULL, 0);
    io_uring_sqe_set_data(sqe, listener);
}

static void queue_recv(struct io_uring* ring, struct conn* c)
{
    struct io_uring_sqe* sqe = get_sqe(ring);
    c->op = op_recv;
    io_uring_prep_recv(sqe, c->fd, c->buf, sizeof c->buf, 0);
    io_uring_sqe_set_data(sqe, c);
}

static void queue_send(struct io_uring* ring, struct conn* c)
{
    struct io_uring_sqe* sqe = get_sqe(ring);
    c->op = op_send;
    io_uring_prep_send(sqe, c->fd, c->buf + c->sent, c->len - c->sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data(sqe, c);
}

static void close_conn(struct conn* c)
{
    close(c->fd);
    free(c);
}

static void handle(struct io_uring* ring, struct conn* c, int res)
{
    switch (c->op)
    {
    case op_accept:
        if (res >= 0)
        {
            struct conn* accepted = calloc(1, sizeof *accepted);
            const int one = 1;
            if (accepted == NULL)
            {
                close(res);
            }
            else
            {
                accepted->fd = res;
                setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                queue_recv(ring, accepted);
            }
        }
        queue_accept(ring, c);
        break;
    case op_recv:
        if (res <= 0)
        {
            close_conn(c);
            break;
        }
        c->len = (unsigned)res;
        c->sent = 0;
        queue_send(ring, c);
        break;
    case op_send:
        if (res < 0)
        {
            close_conn(c);
            break;
        }
        c->sent += (unsigned)res;
        if (c->sent < c->len)
        {
            queue_send(ring, c);
        }
        else
        {
            queue_recv(ring, c);
        }
        break;
    }
}

int main(int argc, char** argv)
{
    if (argc < 2)
    {
        fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
        return 2;
    }
    const char* host = argc > 2 ? argv[2] : "127.0.0.1";
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
    {
        fprintf(stderr, "bad host %s\n", host);
        return 2;
    }

    struct conn listener = {.op = op_accept};
    const int one = 1;
    listener.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listener.fd < 0 || bind(listener.fd, (struct sockaddr*)&addr, sizeof addr) != 0 ||
        listen(listener.fd, 1024) != 0)
    {
        perror("listen");
        return 1;
    }

    struct io_uring ring;
    const int rc = io_uring_queue_init(256, &ring, 0);
    if (rc < 0)
    {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-rc));
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: the wait returns -EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    socklen_t addr_len = sizeof addr;
    getsockname(listener.fd, (struct sockaddr*)&addr, &addr_len);
    queue_accept(&ring, &listener);
    printf("listening on %s:%u\n", host, (unsigned)ntohs(addr.sin_port));
    fflush(stdout);

    while (!stop_requested)
    {
        struct io_uring_cqe* cqe;
        const int wait_rc = io_uring_submit_and_wait(&ring, 1);
        if (wait_rc < 0 && wait_rc != -EINTR)
        {
            fprintf(stderr, "io_uring_submit_and_wait: %s\n", strerror(-wait_rc));
            return 1;
        }
        unsigned head;
        unsigned seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe)
        {
            handle(&ring, io_uring_cqe_get_data(cqe), cqe->res);
            ++seen;
        }
        io_uring_cq_advance(&ring, seen);
    }
    io_uring_queue_exit(&ring);
    close(listener.fd);
    return 0;
}
