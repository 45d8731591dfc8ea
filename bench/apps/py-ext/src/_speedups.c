/*
 * _speedups: the hot loops of textstats in C. count_chars counts letters,
 * digits, spaces and other characters of a str; levenshtein is the edit
 * distance of two str.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *count_chars(PyObject *self, PyObject *args)
{
	PyObject *text;
	Py_ssize_t i, n;
	long letters = 0, digits = 0, spaces = 0, other = 0;
	int kind;
	const void *data;

	if (!PyArg_ParseTuple(args, "U", &text))
		return NULL;
	n = PyUnicode_GET_LENGTH(text);
	kind = PyUnicode_KIND(text);
	data = PyUnicode_DATA(text);
	for (i = 0; i < n; i++) {
		Py_UCS4 c = PyUnicode_READ(kind, data, i);
		if (Py_UNICODE_ISALPHA(c))
			letters++;
		else if (Py_UNICODE_ISDIGIT(c))
			digits++;
		else if (Py_UNICODE_ISSPACE(c))
			spaces++;
		else
			other++;
	}
	return Py_BuildValue("{s:l,s:l,s:l,s:l}", "letters", letters, "digits", digits, "spaces", spaces,
			     "other", other);
}

static PyObject *levenshtein(PyObject *self, PyObject *args)
{
	PyObject *a, *b;
	Py_ssize_t la, lb, i, j;
	Py_ssize_t *row;
	int ka, kb;
	const void *da, *db;
	Py_ssize_t result;

	if (!PyArg_ParseTuple(args, "UU", &a, &b))
		return NULL;
	la = PyUnicode_GET_LENGTH(a);
	lb = PyUnicode_GET_LENGTH(b);
	ka = PyUnicode_KIND(a);
	kb = PyUnicode_KIND(b);
	da = PyUnicode_DATA(a);
	db = PyUnicode_DATA(b);
	row = PyMem_Malloc((lb + 1) * sizeof(*row));
	if (row == NULL)
		return PyErr_NoMemory();
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		Py_ssize_t diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			Py_ssize_t up = row[j];
			Py_ssize_t cost = PyUnicode_READ(ka, da, i - 1) == PyUnicode_READ(kb, db, j - 1) ? 0 : 1;
			Py_ssize_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	result = row[lb];
	PyMem_Free(row);
	return PyLong_FromSsize_t(result);
}

static PyMethodDef methods[] = {
	{"count_chars", count_chars, METH_VARARGS, "Count letters, digits, spaces and other characters."},
	{"levenshtein", levenshtein, METH_VARARGS, "Edit distance of two strings."},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "textstats._speedups", NULL, -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
	return PyModule_Create(&module);
}
