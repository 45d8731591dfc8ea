document.title += ' (loaded)';
