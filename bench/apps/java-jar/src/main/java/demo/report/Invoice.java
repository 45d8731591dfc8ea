package demo.report;

import java.util.List;

/** Invoice renders lines with their totals, the tax and the sum as plain text. */
public final class Invoice {
    private final String number;
    private final List<Line> lines;
    private final int taxPercent;

    public Invoice(String number, List<Line> lines, int taxPercent) {
        this.number = number;
        this.lines = List.copyOf(lines);
        this.taxPercent = taxPercent;
    }

    public String render() {
        StringBuilder out = new StringBuilder();
        out.append("Invoice ").append(number).append('\n');
        long net = 0;
        for (Line line : lines) {
            out.append(String.format("%-20s %3d x %9s %10s%n", line.item(), line.quantity(),
                    money(line.unitCents()), money(line.totalCents())));
            net += line.totalCents();
        }
        long tax = Math.round(net * taxPercent / 100.0);
        out.append(String.format("%-36s %10s%n", "net", money(net)));
        out.append(String.format("%-36s %10s%n", "tax " + taxPercent + "%", money(tax)));
        out.append(String.format("%-36s %10s%n", "total", money(net + tax)));
        return out.toString();
    }

    private static String money(long cents) {
        return String.format("%d.%02d", cents / 100, cents % 100);
    }
}
