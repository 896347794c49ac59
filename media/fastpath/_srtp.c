/* The SFU's SRTP fast paths: a frame's RTP packets protected and sent in one call, and an
 * incoming datagram unprotected in one call.
 *
 * The SFU's per-subscriber hot path: each forwarded frame is 1-30 RTP packets for each
 * subscriber, and doing protect + send per packet in Python costs tens of microseconds
 * each. Here a frame is one call: every packet is protected with libsrtp's srtp_protect
 * (the function and session of pylibsrtp, already loaded in the process, passed in as
 * addresses) and the batch goes out with sendmmsg. The packets are laid out here too
 * (12-byte header, extension block, payload: the one piece of RTP in C), so a frame costs
 * no Python object per packet but the one kept for retransmissions; media/fastpath/rtp_writer.py
 * builds the same bytes in Python for aiortc's path, and the tests compare the two.
 * The GIL is held throughout: libsrtp sessions are not thread-safe, and the socket is
 * non-blocking, so nothing here waits.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#define SLOT_SIZE 2048 /* a packet plus libsrtp's largest trailer (144 bytes) */
#define MAX_TRAILER 144
#define BATCH 32

/* srtp_protect, srtp_unprotect and srtp_unprotect_rtcp share this signature. */
typedef int (*protect_fn)(void *session, void *packet, int *length);

static unsigned char slots[BATCH][SLOT_SIZE];

/* Send `count` protected packets; returns how many went out, or -1 with errno set. */
static int flush(int fd, const void *addr, socklen_t addr_len, int *lengths, int count) {
#ifdef __linux__
    struct mmsghdr messages[BATCH];
    struct iovec vectors[BATCH];
    memset(messages, 0, sizeof(struct mmsghdr) * (size_t)count);
    for (int i = 0; i < count; i++) {
        vectors[i].iov_base = slots[i];
        vectors[i].iov_len = (size_t)lengths[i];
        messages[i].msg_hdr.msg_name = (void *)addr;
        messages[i].msg_hdr.msg_namelen = addr_len;
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
    }
    int sent = 0;
    while (sent < count) {
        int done = sendmmsg(fd, messages + sent, (unsigned int)(count - sent), MSG_DONTWAIT);
        if (done < 0) {
            if (errno == EINTR) continue;
            return sent > 0 ? sent : -1;
        }
        sent += done;
    }
    return sent;
#else
    for (int i = 0; i < count; i++) {
        if (sendto(fd, slots[i], (size_t)lengths[i], MSG_DONTWAIT, addr, addr_len) < 0)
            return i > 0 ? i : -1;
    }
    return count;
#endif
}

static int is_full(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == ENOBUFS;
}

/* The batch being protected and sent, with what has gone out so far. */
typedef struct {
    protect_fn protect;
    void *session;
    int fd;
    const void *addr;
    socklen_t addr_len;
    int lengths[BATCH];
    int queued, full;
    Py_ssize_t sent, failed, octets;
} Batch;

/* Send what is queued; 0, or -1 with an OSError set. A full socket drops the rest. */
static int batch_flush(Batch *batch) {
    if (batch->queued == 0 || batch->full) return 0;
    int done = flush(batch->fd, batch->addr, batch->addr_len, batch->lengths, batch->queued);
    if (done < 0 && !is_full(errno)) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    for (int i = 0; i < done; i++) batch->octets += batch->lengths[i];
    batch->sent += done > 0 ? done : 0;
    batch->full = done < batch->queued;
    batch->queued = 0;
    return 0;
}

/* Protect the packet of `size` bytes in the next slot and queue it; 0, or -1 on error. */
static int batch_add(Batch *batch, int size) {
    int length = size;
    if (batch->protect(batch->session, slots[batch->queued], &length) != 0) {
        batch->failed++;
        return 0;
    }
    batch->lengths[batch->queued++] = length;
    return batch->queued == BATCH ? batch_flush(batch) : 0;
}

/* send_frame's first arguments: protect, session, fd, address. */
static int batch_init(Batch *batch, PyObject *const *args) {
    memset(batch, 0, sizeof(Batch));
    void *protect_address = PyLong_AsVoidPtr(args[0]);
    batch->session = PyLong_AsVoidPtr(args[1]);
    batch->fd = (int)PyLong_AsLong(args[2]);
    if (PyErr_Occurred()) return -1;
    if (protect_address == NULL || batch->session == NULL || batch->fd < 0) {
        PyErr_SetString(PyExc_ValueError, "protect, session and fd must be set");
        return -1;
    }
    if (!PyBytes_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "address must be bytes");
        return -1;
    }
    batch->protect = (protect_fn)protect_address;
    batch->addr = PyBytes_AS_STRING(args[3]);
    batch->addr_len = (socklen_t)PyBytes_GET_SIZE(args[3]);
    if (batch->addr_len < (socklen_t)sizeof(sa_family_t) ||
        batch->addr_len > sizeof(struct sockaddr_storage)) {
        PyErr_SetString(PyExc_ValueError, "address is not a sockaddr");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(send_frame_doc,
    "send_frame(protect, session, fd, address, header, block, payloads, history)\n"
    "    -> (sent, failed, octets)\n\n"
    "Build one frame's RTP packets, SRTP-protect each with libsrtp's srtp_protect at\n"
    "address `protect` on the srtp_t `session`, and send them all to `address` (a raw\n"
    "sockaddr, bytes) on the UDP socket `fd`. `header` is the first packet's 12-byte RTP\n"
    "header (without the marker); each next packet takes the next sequence number and the\n"
    "last one gets the marker bit. `block` (bytes, may be empty) is the header extension\n"
    "block, then comes the payload (bytes, one per packet). Each unprotected packet, sent\n"
    "or dropped, is stored in the list `history` at its sequence number modulo the list's\n"
    "length (for retransmissions). A full socket drops the rest, as UDP would; `failed`\n"
    "counts packets libsrtp refused, `octets` the protected bytes sent. A packet that would\n"
    "not fit raises ValueError before anything is sent; other socket errors raise OSError.");

static PyObject *srtp_send_frame(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "send_frame() takes 8 arguments");
        return NULL;
    }
    Batch batch;
    if (batch_init(&batch, args) < 0) return NULL;
    PyObject *header = args[4], *block = args[5], *payloads = args[6], *history = args[7];
    if (!PyBytes_Check(header) || PyBytes_GET_SIZE(header) != 12 || !PyBytes_Check(block) ||
        !PyList_Check(payloads) || !PyList_Check(history) || PyList_GET_SIZE(history) == 0) {
        PyErr_SetString(PyExc_TypeError,
                        "header must be 12 bytes, block bytes, payloads and history lists");
        return NULL;
    }
    Py_ssize_t total = PyList_GET_SIZE(payloads), slots_in_history = PyList_GET_SIZE(history);
    Py_ssize_t block_size = PyBytes_GET_SIZE(block);
    for (Py_ssize_t index = 0; index < total; index++) {
        PyObject *payload = PyList_GET_ITEM(payloads, index);
        if (!PyBytes_Check(payload)) {
            PyErr_SetString(PyExc_TypeError, "payloads must be bytes");
            return NULL;
        }
        Py_ssize_t size = 12 + block_size + PyBytes_GET_SIZE(payload);
        if (size > SLOT_SIZE - MAX_TRAILER) {
            PyErr_Format(PyExc_ValueError, "an RTP packet of %zd bytes cannot be sent", size);
            return NULL;
        }
    }
    const unsigned char *first = (const unsigned char *)PyBytes_AS_STRING(header);
    unsigned int sequence = ((unsigned int)first[2] << 8) | first[3];
    for (Py_ssize_t index = 0; index < total; index++) {
        PyObject *payload = PyList_GET_ITEM(payloads, index);
        Py_ssize_t payload_size = PyBytes_GET_SIZE(payload);
        Py_ssize_t size = 12 + block_size + payload_size;
        unsigned char *slot = slots[batch.queued];
        memcpy(slot, first, 12);
        if (index == total - 1) slot[1] |= 0x80;
        slot[2] = (unsigned char)(sequence >> 8);
        slot[3] = (unsigned char)sequence;
        memcpy(slot + 12, PyBytes_AS_STRING(block), (size_t)block_size);
        memcpy(slot + 12 + block_size, PyBytes_AS_STRING(payload), (size_t)payload_size);
        PyObject *plain = PyBytes_FromStringAndSize((const char *)slot, size);
        if (plain == NULL) return NULL;
        PyList_SetItem(history, (Py_ssize_t)sequence % slots_in_history, plain);
        sequence = (sequence + 1) & 0xFFFF;
        /* After a full socket the rest is dropped, but kept for retransmission. */
        if (!batch.full && batch_add(&batch, (int)size) < 0) return NULL;
    }
    if (batch_flush(&batch) < 0) return NULL;
    return Py_BuildValue("(nnn)", batch.sent, batch.failed, batch.octets);
}

PyDoc_STRVAR(unprotect_doc,
    "unprotect(function, session, datagram) -> bytes | None\n\n"
    "Decrypt and authenticate one SRTP or SRTCP `datagram` (bytes) with libsrtp's\n"
    "srtp_unprotect or srtp_unprotect_rtcp at address `function` on the srtp_t `session`:\n"
    "the plain packet, or None when libsrtp refuses it (bad tag, replay, unknown stream)\n"
    "or it is larger than any packet the SFU sends or receives.");

static unsigned char inbound[SLOT_SIZE];

static PyObject *srtp_unprotect_datagram(PyObject *module, PyObject *const *args,
                                         Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "unprotect() takes 3 arguments");
        return NULL;
    }
    void *function = PyLong_AsVoidPtr(args[0]);
    void *session = PyLong_AsVoidPtr(args[1]);
    if (PyErr_Occurred()) return NULL;
    if (function == NULL || session == NULL) {
        PyErr_SetString(PyExc_ValueError, "function and session must be set");
        return NULL;
    }
    if (!PyBytes_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "datagram must be bytes");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(args[2]);
    if (size > SLOT_SIZE) Py_RETURN_NONE;
    memcpy(inbound, PyBytes_AS_STRING(args[2]), (size_t)size);
    int length = (int)size;
    if (((protect_fn)function)(session, inbound, &length) != 0) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)inbound, length);
}

static PyMethodDef methods[] = {
    {"send_frame", (PyCFunction)(void (*)(void))srtp_send_frame, METH_FASTCALL,
     send_frame_doc},
    {"unprotect", (PyCFunction)(void (*)(void))srtp_unprotect_datagram, METH_FASTCALL,
     unprotect_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "media.fastpath._srtp",
    "The SFU's SRTP fast paths: send_frame (build, protect, send) and unprotect.",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__srtp(void) { return PyModule_Create(&module); }
