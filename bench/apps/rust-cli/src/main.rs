//! tally counts the words of the files it is given (standard input with
//! none) and prints the most frequent ones.

mod count;

use std::env;
use std::fs;
use std::io::{self, Read};
use std::process;

fn main() {
    let mut top = 10;
    let mut paths = Vec::new();
    let mut args = env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-n" {
            top = match args.next().and_then(|v| v.parse().ok()) {
                Some(n) => n,
                None => {
                    eprintln!("tally: -n wants a number");
                    process::exit(2);
                }
            };
        } else {
            paths.push(arg);
        }
    }

    let mut counts = count::Counts::default();
    if paths.is_empty() {
        let mut text = String::new();
        if let Err(err) = io::stdin().read_to_string(&mut text) {
            eprintln!("tally: standard input: {}", err);
            process::exit(1);
        }
        counts.add_text(&text);
    }
    for path in &paths {
        match fs::read_to_string(path) {
            Ok(text) => counts.add_text(&text),
            Err(err) => {
                eprintln!("tally: {}: {}", path, err);
                process::exit(1);
            }
        }
    }

    println!("{} words, {} different", counts.total(), counts.distinct());
    for (word, n) in counts.most_frequent(top) {
        println!("{:>5}  {}", n, word);
    }
}
