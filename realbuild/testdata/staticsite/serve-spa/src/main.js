// The client-side router: the page shows the path it was loaded for.
document.getElementById('app').textContent = 'route ' + location.pathname;
