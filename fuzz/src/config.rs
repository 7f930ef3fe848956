//! Target `config`: the server's TOML configuration file (`--config`), parsed and checked.

use xiangying_server::config_file::FileConfig;

/// Parses `data` as a configuration file; an accepted file must give limits above zero.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(crate::capped(data)) else {
        // `FileConfig::load` refuses a file that is not UTF-8 when reading it.
        return;
    };
    if let Ok(cfg) = FileConfig::parse(text) {
        let l = cfg.limits();
        assert!(
            l.first_zero().is_none(),
            "an accepted configuration has a zero limit: {l:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_and_typos_pass_through() {
        run(b"listen = \"127.0.0.1:1\"\n[limits]\nmax_photo = 5\n");
        run(b"[limits]\nmax_photo = 0\n");
        run(b"[[[");
        run(&[0xff]);
    }
}
