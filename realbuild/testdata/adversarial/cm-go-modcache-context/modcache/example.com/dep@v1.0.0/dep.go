package dep // v1.0.0, from the context
