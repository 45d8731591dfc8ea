package hello;

import java.nio.file.Paths;

public class Main {
	public static void main(String[] args) {
		String who = args.length > 0 ? args[0] : "nobody";
		System.out.println("hello, " + who + " (java " + Runtime.version().feature() + ", cwd " + Paths.get("").toAbsolutePath() + ", "
				+ System.getProperty("user.name") + ")");
		System.exit(3);
	}
}
