export class Counter {
  private counts = new Map<string, number>();

  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) || 0) + 1);
  }

  top(n: number): Array<{ path: string; count: number }> {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, n)
      .map(([path, count]) => ({ path, count }));
  }
}
