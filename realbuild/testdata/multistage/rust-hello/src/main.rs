use std::env;
use std::process::exit;

fn main() {
    let name = env::var("NAME").unwrap_or_else(|_| "nobody".to_string());
    let cwd = env::current_dir().map(|p| p.display().to_string()).unwrap_or_default();
    println!("hello from {} in {}", name, cwd);
    exit(2);
}
