/* echo_multishot_server: the io_uring echo server with the features that FLOORS.md says can
 * pull ahead of a plain recv -> send loop: one multishot accept, and per connection one
 * multishot recv that picks its buffers from a provided-buffer ring (no buffer per idle
 * connection, no recv SQE per message). Each received message is copied out of the ring buffer,
 * which goes straight back to the ring, and sent. bench/echo_bench.sh runs it against
 * echo_floor_server (pass it as SERVER): the ratio says whether these features pay on this
 * machine, and so whether weft's runtime should use them.
 *
 * Run: build-bench/bench/echo_multishot_server PORT [HOST]   (HOST defaults to 127.0.0.1), or
 *      with --port PORT --host HOST
 * Prints "listening on HOST:PORT" once it accepts; exits 0 on SIGINT or SIGTERM.
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
#include <sys/mman.h>
#include <sys/socket.h>

enum op_kind
{
    op_accept,
    op_recv,
    op_send,
};

enum
{
    buffer_count = 1024, /* a power of two */
    buffer_size = 2048,
    buffer_group = 0,
};

struct conn
{
    enum op_kind op;
    int fd;
    int sending;   /* a send is in flight: later messages queue in pending */
    int closing;   /* the recv ended: free once the send in flight completes */
    unsigned len;  /* bytes in out, to echo */
    unsigned sent; /* bytes of them sent so far */
    char out[buffer_size];
};

/* Sends and receives of one connection carry different user_data: tag the low bit. */
#define SEND_TAG ((unsigned long)1)

static volatile sig_atomic_t stop_requested;
static struct io_uring_buf_ring* buffers_ring;
static char* buffers;

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
    io_uring_prep_multishot_accept(sqe, listener->fd, NULL, NULL, 0);
    io_uring_sqe_set_data(sqe, listener);
}

static void queue_recv(struct io_uring* ring, struct conn* c)
{
    struct io_uring_sqe* sqe = get_sqe(ring);
    io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
    io_uring_sqe_set_data(sqe, c);
}

static void queue_send(struct io_uring* ring, struct conn* c)
{
    struct io_uring_sqe* sqe = get_sqe(ring);
    c->sending = 1;
    io_uring_prep_send(sqe, c->fd, c->out + c->sent, c->len - c->sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, (unsigned long)c | SEND_TAG);
}

static void give_back(unsigned id)
{
    io_uring_buf_ring_add(buffers_ring, buffers + (size_t)id * buffer_size, buffer_size,
                          (unsigned short)id, io_uring_buf_ring_mask(buffer_count), 0);
    io_uring_buf_ring_advance(buffers_ring, 1);
}

static void close_conn(struct conn* c)
{
    close(c->fd);
    free(c);
}

static void on_accept(struct io_uring* ring, struct conn* listener, struct io_uring_cqe* cqe)
{
    if (cqe->res >= 0)
    {
        struct conn* accepted = calloc(1, sizeof *accepted);
        const int one = 1;
        if (accepted == NULL)
        {
            close(cqe->res);
        }
        else
        {
            accepted->fd = cqe->res;
            accepted->op = op_recv;
            setsockopt(cqe->res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            queue_recv(ring, accepted);
        }
    }
    if (!(cqe->flags & IORING_CQE_F_MORE))
    {
        queue_accept(ring, listener); /* the kernel ended the multishot: re-arm */
    }
}

static void on_recv(struct io_uring* ring, struct conn* c, struct io_uring_cqe* cqe)
{
    if (cqe->flags & IORING_CQE_F_BUFFER)
    {
        const unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        if (cqe->res > 0 && c->len + (unsigned)cqe->res <= sizeof c->out)
        {
            memcpy(c->out + c->len, buffers + (size_t)id * buffer_size, (size_t)cqe->res);
            c->len += (unsigned)cqe->res;
        }
        give_back(id);
    }
    if (cqe->res > 0 && !c->sending && c->len > c->sent)
    {
        queue_send(ring, c);
    }
    if (cqe->res <= 0 && cqe->res != -ENOBUFS)
    {
        c->closing = 1;
        if (!c->sending)
        {
            close_conn(c);
        }
        return;
    }
    if (!(cqe->flags & IORING_CQE_F_MORE))
    {
        queue_recv(ring, c); /* out of buffers, or the kernel ended it: re-arm */
    }
}

static void on_send(struct io_uring* ring, struct conn* c, int res)
{
    c->sending = 0;
    if (res < 0)
    {
        c->closing = 1;
    }
    else
    {
        c->sent += (unsigned)res;
    }
    if (c->closing)
    {
        close_conn(c);
        return;
    }
    if (c->sent < c->len)
    {
        queue_send(ring, c);
        return;
    }
    c->len = c->sent = 0;
}

int main(int argc, char** argv)
{
    /* "PORT [HOST]" as echo_floor_server, or "--port PORT --host HOST" as examples/echo_server,
     * so that echo_bench.sh can run it in either slot. */
    const char* port = NULL;
    const char* host = "127.0.0.1";
    int positional = 0;
    for (int i = 1; i < argc; ++i)
    {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
        {
            port = argv[++i];
        }
        else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc)
        {
            host = argv[++i];
        }
        else if (positional++ == 0)
        {
            port = argv[i];
        }
        else
        {
            host = argv[i];
        }
    }
    if (port == NULL)
    {
        fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
        return 2;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(port));
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
    int rc = io_uring_queue_init(256, &ring, 0);
    if (rc < 0)
    {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-rc));
        return 1;
    }

    /* The provided-buffer ring: its entries, then the buffers they point at. */
    const size_t ring_bytes = buffer_count * sizeof(struct io_uring_buf);
    buffers_ring =
        mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    buffers = malloc((size_t)buffer_count * buffer_size);
    if (buffers_ring == MAP_FAILED || buffers == NULL)
    {
        perror("buffers");
        return 1;
    }
    io_uring_buf_ring_init(buffers_ring);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (unsigned long)buffers_ring;
    reg.ring_entries = buffer_count;
    reg.bgid = buffer_group;
    rc = io_uring_register_buf_ring(&ring, &reg, 0);
    if (rc < 0)
    {
        fprintf(stderr, "io_uring_register_buf_ring: %s\n", strerror(-rc));
        return 1;
    }
    for (unsigned id = 0; id < buffer_count; ++id)
    {
        give_back(id);
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
            const unsigned long data = (unsigned long)io_uring_cqe_get_data64(cqe);
            struct conn* c = (struct conn*)(data & ~SEND_TAG);
            if (c == &listener)
            {
                on_accept(&ring, c, cqe);
            }
            else if (data & SEND_TAG)
            {
                on_send(&ring, c, cqe->res);
            }
            else
            {
                on_recv(&ring, c, cqe);
            }
            ++seen;
        }
        io_uring_cq_advance(&ring, seen);
    }
    io_uring_queue_exit(&ring);
    close(listener.fd);
    return 0;
}
