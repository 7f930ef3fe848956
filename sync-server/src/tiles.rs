//! The desk map's optional tile layer (`[desk] tile_url`, `tile_datum`; decision 0042): an
//! XYZ address template, checked, with the datum its tiles are drawn in. A leaf module: the
//! settings ([`crate::state::DeskSettings`]) check their address with it and the map
//! ([`crate::desk::map`]) draws with it.

use xiangying_model::org::Datum;

/// The datums a tile layer may be drawn in (BD-09 tiles use their own tiling, not XYZ).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TileDatum {
    /// WGS-84 (OpenStreetMap and most tile servers outside China, Tianditu's `_w` layers).
    #[default]
    Wgs84,
    /// GCJ-02 (AMap/高德, Tencent/腾讯 tiles).
    Gcj02,
}

/// A tile layer from the configuration file: an XYZ address template and its datum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileLayer {
    template: String,
    origin: String,
    datum: Datum,
}

impl TileLayer {
    /// Checks a template (`http(s)://host/…{z}…{x}…{y}…`, at most 512 bytes, no space, quote,
    /// angle bracket or backslash) and keeps it with its datum.
    pub fn new(template: &str, datum: TileDatum) -> Result<TileLayer, String> {
        if template.len() > 512 {
            return Err("longer than 512 bytes".into());
        }
        if let Some(c) = template
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || "\"'<>\\`".contains(*c))
        {
            return Err(format!("{c:?} is not allowed in a tile address"));
        }
        let rest = template
            .strip_prefix("https://")
            .map(|r| ("https://", r))
            .or_else(|| template.strip_prefix("http://").map(|r| ("http://", r)));
        let Some((scheme, rest)) = rest else {
            return Err("must begin with https:// or http://".into());
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty()
            || host.contains(['{', '}', '@'])
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        {
            return Err("needs a plain host name after the scheme".into());
        }
        for p in ["{z}", "{x}", "{y}"] {
            if !template.contains(p) {
                return Err(format!("needs the placeholder {p}"));
            }
        }
        Ok(TileLayer {
            template: template.to_string(),
            origin: format!("{scheme}{host}"),
            datum: match datum {
                TileDatum::Wgs84 => Datum::Wgs84,
                TileDatum::Gcj02 => Datum::Gcj02,
            },
        })
    }

    /// The scheme and host the tiles come from (for a Content-Security-Policy `img-src`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The datum the tiles are drawn in.
    pub fn datum(&self) -> Datum {
        self.datum
    }

    /// The address of one tile.
    pub fn url(&self, z: u8, x: u32, y: u32) -> String {
        self.template
            .replace("{z}", &z.to_string())
            .replace("{x}", &x.to_string())
            .replace("{y}", &y.to_string())
    }
}
