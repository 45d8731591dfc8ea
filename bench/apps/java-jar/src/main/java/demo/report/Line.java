package demo.report;

import java.util.ArrayList;
import java.util.List;

/** Line is one position of an invoice: what, how many, and the unit price in cents. */
public record Line(String item, int quantity, long unitCents) {
    public long totalCents() {
        return quantity * unitCents;
    }

    public static List<Line> parseAll(String[] specs) {
        List<Line> lines = new ArrayList<>();
        for (String spec : specs) {
            String[] parts = spec.split(":");
            if (parts.length != 3) {
                throw new IllegalArgumentException("want NAME:QTY:CENTS, got " + spec);
            }
            lines.add(new Line(parts[0], Integer.parseInt(parts[1]), Long.parseLong(parts[2])));
        }
        return lines;
    }
}
