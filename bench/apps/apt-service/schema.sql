CREATE TABLE services (
    name  TEXT PRIMARY KEY,
    url   TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('up', 'degraded', 'down'))
);

INSERT INTO services (name, url, state) VALUES
    ('api', 'https://api.example.com/health', 'up'),
    ('billing', 'https://billing.example.com/ping', 'degraded'),
    ('search', 'https://search.example.com/health', 'up');
