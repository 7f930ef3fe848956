//! People search over the sample street with its people renamed: initials, full pinyin and
//! its prefixes, case and width, polyphonic surnames, ü, names with a middle dot, the order of
//! results, the limit, and queries that find nobody.

use super::*;
use crate::org::sample;

/// The sample street with Chinese names (ids as in `sample`).
fn roster() -> Roster {
    let names = [
        ("center", "张三"),
        ("cc1", "张三丰"),
        ("cc2", "赵爽"),
        ("gw1", "曾国藩"),
        ("gw2", "单雄信"),
        ("gw3", "解缙"),
        ("inf1", "仇英"),
        ("psc1", "吕布"),
        ("msc1", "李四"),
        ("official", "王五"),
        ("police1", "孙三"),
        ("enf1", "ZS"),
        ("vol1", "张珊"),
        ("vol2", "阿依古丽·买买提"),
        ("res1", "张三"),
    ];
    let mut r = sample::roster().unwrap();
    for (id, name) in names {
        let p = r.people.iter_mut().find(|p| p.id == id).unwrap();
        p.name = name.into();
    }
    r
}

fn ids(query: &str) -> Vec<String> {
    let r = roster();
    let index = PeopleIndex::new(&r);
    index
        .search_people(&r, query, 50)
        .into_iter()
        .map(|p| p.id.clone())
        .collect()
}

fn kinds(query: &str) -> Vec<(String, MatchKind)> {
    let r = roster();
    PeopleIndex::new(&r)
        .search(query, 50)
        .into_iter()
        .map(|f| (r.people[f.index].id.clone(), f.kind))
        .collect()
}

#[test]
fn initials_rank_after_the_exact_name_and_before_initials_of_longer_names() {
    use MatchKind::*;
    let got = kinds("zs");
    let want = [
        ("enf1", Name),
        ("center", Initials),
        ("cc2", Initials),
        ("vol1", Initials),
        ("res1", Initials),
        ("cc1", InitialsPrefix),
    ];
    let want: Vec<(String, MatchKind)> = want.iter().map(|&(i, k)| (i.to_string(), k)).collect();
    assert_eq!(got, want);
    // Case and full-width letters do not matter.
    assert_eq!(ids("ZS"), ids("zs"));
    assert_eq!(ids("ＺＳ"), ids("zs"));
}

#[test]
fn full_pinyin_and_its_prefixes() {
    assert_eq!(ids("zhangsan"), ["center", "res1", "cc1"]);
    assert_eq!(ids("ZhangSan"), ids("zhangsan"));
    assert_eq!(ids("zhang san"), ids("zhangsan"));
    assert_eq!(ids("zhang'san"), ids("zhangsan"));
    assert_eq!(ids("zhangs"), ["center", "cc1", "vol1", "res1"]);
    assert_eq!(ids("zhangsanf"), ["cc1"]);
    assert_eq!(ids("zhangsanfeng"), ["cc1"]);
    assert_eq!(kinds("zhangsanfeng")[0].1, MatchKind::Pinyin);
    assert_eq!(ids("zhangshan"), ["vol1"]);
    assert_eq!(ids("lisi"), ["msc1"]);
}

#[test]
fn hanzi_find_the_name_then_its_start_then_inside() {
    assert_eq!(ids("张三"), ["center", "res1", "cc1"]);
    assert_eq!(kinds("张三")[0].1, MatchKind::Name);
    assert_eq!(ids("张"), ["center", "cc1", "vol1", "res1"]);
    assert_eq!(ids("三"), ["center", "cc1", "police1", "res1"]);
    assert_eq!(kinds("三")[0].1, MatchKind::Inside);
    assert_eq!(ids("张s"), ["center", "vol1", "res1", "cc1"]);
}

#[test]
fn a_polyphonic_surname_is_found_by_every_reading() {
    for q in [
        "zeng",
        "ceng",
        "zengguofan",
        "cengguofan",
        "zgf",
        "cgf",
        "zengg",
    ] {
        assert_eq!(ids(q), ["gw1"], "{q}");
    }
    for q in ["shanxiongxin", "danxiongxin", "sxx", "dxx", "danx"] {
        assert_eq!(ids(q), ["gw2"], "{q}");
    }
    for q in ["xiejin", "jiejin", "xj", "jj", "jiej"] {
        assert_eq!(ids(q), ["gw3"], "{q}");
    }
    for q in ["qiuying", "chouying", "qy", "cy", "chouy"] {
        assert_eq!(ids(q), ["inf1"], "{q}");
    }
}

#[test]
fn u_umlaut_is_typed_v_or_u() {
    assert_eq!(ids("lvbu"), ["psc1"]);
    assert_eq!(ids("lubu"), ["psc1"]);
    assert_eq!(ids("lb"), ["psc1"]);
}

#[test]
fn given_names_and_mixed_splits_come_last() {
    use MatchKind::*;
    // 孙三 cannot start "san": it is found inside, with the others, in roster order.
    assert_eq!(ids("san"), ["center", "cc1", "police1", "res1"]);
    assert!(kinds("san").iter().all(|(_, k)| *k == Inside));
    // zh + s: 张三, 张三丰, 赵爽 (zhao shuang), 张珊, 张三.
    assert_eq!(
        kinds("zhs"),
        ["center", "cc1", "cc2", "vol1", "res1"]
            .map(|i| (i.to_string(), Mixed))
            .to_vec()
    );
    // The middle dot is not a character of the name.
    assert_eq!(ids("aygl"), ["vol2"]);
    assert_eq!(ids("mmt"), ["vol2"]);
    assert_eq!(ids("阿依古丽·买买提"), ["vol2"]);
    assert_eq!(kinds("阿依古丽·买买提")[0].1, Name);
    // Latin letters and digits are characters of their own.
    assert_eq!(ids("vol3"), ["vol3"]);
}

#[test]
fn no_match_empty_queries_and_the_limit() {
    assert!(ids("xyz").is_empty());
    assert!(ids("zhangsanfengx").is_empty());
    assert!(ids("").is_empty());
    assert!(ids("  '").is_empty());
    let r = roster();
    let index = PeopleIndex::new(&r);
    assert_eq!(index.len(), r.people.len());
    let two: Vec<&str> = index
        .search_people(&r, "zs", 2)
        .into_iter()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(two, ["enf1", "center"]);
    assert!(index.search("zs", 0).is_empty());
}

#[test]
fn the_zhenxing_street_is_indexed_and_searched() {
    let r = crate::org::zhenxing::roster();
    let index = PeopleIndex::new(&r);
    assert_eq!(index.len(), r.people.len());
    // Every person is found by their own name, first.
    for (i, p) in r.people.iter().enumerate().step_by(37) {
        let found = index.search(&p.name, 100);
        assert_eq!(found[0].kind, MatchKind::Name, "{}", p.name);
        assert!(found.iter().any(|f| f.index == i), "{}", p.name);
    }
    // 曾 is read zeng or ceng: the same people either way.
    let zeng: Vec<usize> = index.search("zeng", 5000).iter().map(|f| f.index).collect();
    let ceng: Vec<usize> = index.search("ceng", 5000).iter().map(|f| f.index).collect();
    assert!(
        zeng.iter()
            .filter(|&&i| r.people[i].name.starts_with('曾'))
            .count()
            > 10
    );
    let surname_zeng = |v: &Vec<usize>| -> Vec<usize> {
        v.iter()
            .copied()
            .filter(|&i| r.people[i].name.starts_with('曾'))
            .collect()
    };
    assert_eq!(surname_zeng(&zeng), surname_zeng(&ceng));
}
