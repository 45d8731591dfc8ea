/* fastsum: a small C extension that links libpq, so that the runtime stage
   needs the library libpq-dev stood for. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <libpq-fe.h>

static PyObject *triangle(PyObject *self, PyObject *args) {
	long n, s = 0;
	if (!PyArg_ParseTuple(args, "l", &n))
		return NULL;
	for (long i = 1; i <= n; i++)
		s += i;
	return PyLong_FromLong(s);
}

static PyObject *libpq_major(PyObject *self, PyObject *args) {
	return PyLong_FromLong(PQlibVersion() / 10000);
}

static PyMethodDef methods[] = {
	{"triangle", triangle, METH_VARARGS, "The sum of 1..n."},
	{"libpq_major", libpq_major, METH_NOARGS, "libpq's major version."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastsum", NULL, -1, methods};

PyMODINIT_FUNC PyInit_fastsum(void) { return PyModule_Create(&module); }
