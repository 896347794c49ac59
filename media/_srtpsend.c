/* SRTP-protect a batch of RTP packets and send them to one UDP address in one call.
 *
 * The SFU's per-subscriber hot path: each forwarded frame is 1-30 RTP packets for each
 * subscriber, and doing protect + send per packet in Python costs tens of microseconds
 * each. Here a frame is one call: every packet is protected with libsrtp's srtp_protect
 * (the function and session of pylibsrtp, already loaded in the process, passed in as
 * addresses) and the batch goes out with sendmmsg. No RTP knowledge lives here: the
 * packets are built in Python (media/rtp_writer.py), this only encrypts and sends.
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

PyDoc_STRVAR(send_doc,
    "send(protect, session, fd, address, packets) -> (sent, failed, octets)\n\n"
    "SRTP-protect each RTP packet (bytes) with libsrtp's srtp_protect at address `protect`\n"
    "on the srtp_t `session`, then send them all to `address` (a raw sockaddr, bytes) on\n"
    "the UDP socket `fd`. A full socket drops the rest of the batch, as UDP would;\n"
    "`failed` counts packets libsrtp refused, `octets` the protected bytes sent.\n"
    "Other socket errors raise OSError.");

static PyObject *srtpsend_send(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "send() takes 5 arguments");
        return NULL;
    }
    void *protect_address = PyLong_AsVoidPtr(args[0]);
    void *session = PyLong_AsVoidPtr(args[1]);
    int fd = PyLong_AsLong(args[2]);
    if (PyErr_Occurred()) return NULL;
    if (protect_address == NULL || session == NULL || fd < 0) {
        PyErr_SetString(PyExc_ValueError, "protect, session and fd must be set");
        return NULL;
    }
    if (!PyBytes_Check(args[3]) || !PyList_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "address must be bytes and packets a list");
        return NULL;
    }
    const void *addr = PyBytes_AS_STRING(args[3]);
    socklen_t addr_len = (socklen_t)PyBytes_GET_SIZE(args[3]);
    if (addr_len < (socklen_t)sizeof(sa_family_t) || addr_len > sizeof(struct sockaddr_storage)) {
        PyErr_SetString(PyExc_ValueError, "address is not a sockaddr");
        return NULL;
    }
    protect_fn protect = (protect_fn)protect_address;
    PyObject *packets = args[4];
    Py_ssize_t total = PyList_GET_SIZE(packets);
    int lengths[BATCH];
    int queued = 0, full = 0;
    Py_ssize_t sent = 0, failed = 0, octets = 0;
    for (Py_ssize_t index = 0; index < total && !full; index++) {
        PyObject *packet = PyList_GET_ITEM(packets, index);
        if (!PyBytes_Check(packet)) {
            PyErr_SetString(PyExc_TypeError, "packets must be bytes");
            return NULL;
        }
        Py_ssize_t size = PyBytes_GET_SIZE(packet);
        if (size < 12 || size > SLOT_SIZE - MAX_TRAILER) {
            PyErr_Format(PyExc_ValueError, "an RTP packet of %zd bytes cannot be sent", size);
            return NULL;
        }
        memcpy(slots[queued], PyBytes_AS_STRING(packet), (size_t)size);
        int length = (int)size;
        if (protect(session, slots[queued], &length) != 0) {
            failed++;
            continue;
        }
        lengths[queued++] = length;
        if (queued == BATCH) {
            int done = flush(fd, addr, addr_len, lengths, queued);
            if (done < 0 && !is_full(errno)) return PyErr_SetFromErrno(PyExc_OSError);
            for (int i = 0; i < done; i++) octets += lengths[i];
            sent += done > 0 ? done : 0;
            full = done < queued;
            queued = 0;
        }
    }
    if (queued > 0 && !full) {
        int done = flush(fd, addr, addr_len, lengths, queued);
        if (done < 0 && !is_full(errno)) return PyErr_SetFromErrno(PyExc_OSError);
        for (int i = 0; i < done; i++) octets += lengths[i];
        sent += done > 0 ? done : 0;
    }
    return Py_BuildValue("(nnn)", sent, failed, octets);
}

static PyMethodDef methods[] = {
    {"send", (PyCFunction)(void (*)(void))srtpsend_send, METH_FASTCALL, send_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "media._srtpsend",
    "SRTP-protect and send a frame's RTP packets in one call (the SFU's send fast path).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__srtpsend(void) { return PyModule_Create(&module); }
