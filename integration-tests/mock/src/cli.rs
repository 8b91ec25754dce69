//! Command line: `mock-provider --listen ADDR --name NAME`.

pub const USAGE: &str = "usage: mock-provider [--listen 127.0.0.1:PORT] [--name NAME]";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// Address to bind; port 0 picks a free port (the bound address is printed).
    pub listen: String,
    /// Provider name used in answers ("mock NAME says: ...").
    pub name: String,
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        listen: "127.0.0.1:0".into(),
        name: "mock".into(),
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg, None),
        };
        let slot = match flag.as_str() {
            "--listen" => &mut out.listen,
            "--name" => &mut out.name,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
        *slot = match inline.or_else(|| it.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value\n{USAGE}")),
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses() {
        assert_eq!(
            parse(strings(&["--listen", "127.0.0.1:9", "--name=a"])),
            Ok(Args {
                listen: "127.0.0.1:9".into(),
                name: "a".into()
            })
        );
        assert!(parse(strings(&["--name"])).is_err());
        assert!(parse(strings(&["--bogus", "x"])).is_err());
    }
}
