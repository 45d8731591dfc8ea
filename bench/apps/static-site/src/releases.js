export const releases = [
  {
    version: '2.0.0',
    date: '2024-11-04',
    changes: ['New export to CSV', 'Dark theme', 'Faster search on large boards'],
  },
  {
    version: '1.4.2',
    date: '2024-08-19',
    changes: ['Fix the date picker in Firefox', 'Translations for Portuguese'],
  },
  {
    version: '1.4.0',
    date: '2024-06-03',
    changes: ['Keyboard shortcuts', 'Attachments up to 50 MB'],
  },
];
