package demo;

import demo.report.Invoice;
import demo.report.Line;

import java.util.List;

/** Main prints an invoice for a fixed order, or for the lines given as arguments (NAME:QTY:CENTS). */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        List<Line> lines = args.length == 0
                ? List.of(new Line("Notebook A5", 3, 450), new Line("Fountain pen", 1, 2890), new Line("Ink, blue", 2, 690))
                : Line.parseAll(args);
        Invoice invoice = new Invoice("2024-0117", lines, 19);
        System.out.print(invoice.render());
    }
}
