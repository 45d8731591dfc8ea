const path = require('path');
const express = require('express');
const todos = require('./routes/todos');

const app = express();
const port = process.env.PORT || 3000;

app.use(express.json());
app.use(express.static(path.join(__dirname, 'public')));
app.use('/api/todos', todos);

app.get('/healthz', (req, res) => res.send('ok'));

app.listen(port, () => {
  console.log(`todo-board listening on port ${port}`);
});
