// Copied as it is into dist/ by vite build (public/), served at /app.js.
console.log('static-spa: app.js');
