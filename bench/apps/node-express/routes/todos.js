const express = require('express');

const router = express.Router();
const todos = [
  { id: 1, text: 'write the Dockerfile', done: true },
  { id: 2, text: 'make the image smaller', done: false },
];

router.get('/', (req, res) => {
  res.json(todos);
});

router.post('/', (req, res) => {
  if (!req.body || typeof req.body.text !== 'string' || req.body.text === '') {
    return res.status(400).json({ error: 'text is required' });
  }
  const todo = { id: todos.length + 1, text: req.body.text, done: false };
  todos.push(todo);
  res.status(201).json(todo);
});

router.patch('/:id', (req, res) => {
  const todo = todos.find((t) => t.id === Number(req.params.id));
  if (!todo) {
    return res.status(404).json({ error: 'no such todo' });
  }
  todo.done = Boolean(req.body && req.body.done);
  res.json(todo);
});

module.exports = router;
