//! The standard category catalogue shipped with the Zhenxing example: components (部件) and
//! events (事件) in the shape of GB/T 30428 / CJ/T 214 (digital urban management), plus the
//! duties assigned to grids (网格职责).
//!
//! Codes have six digits `KKBBSS`: `KK` the kind (`01` component, `02` event, `03` grid duty),
//! `BB` the big category (大类, numbered as in the standards for components and events), `SS`
//! the small category (小类). The big code is the first four digits. Names are the problems a
//! field worker reports ("井盖破损" rather than the standard's bare object "井盖"), levels say
//! where the matter is settled by default (小事不出网格，大事不出社区，重大事情不出街道) and
//! departments are the ids of the six departments stationed in the street.
//!
//! Time limits are working hours (工作时) of the catalogue's calendar (a working day has 7.5 of
//! them), except the urgent ones, which run on natural hours (自然时): a missing manhole cover
//! found on Friday evening cannot wait for Monday.

use super::{Category, CategoryKind, Level, LimitClock};

use CategoryKind::{Component, Duty, Event};
use Level::{Community as C, Grid as G, JointEnforcement as J, Street as S};

/// Big categories: code, kind, Chinese name.
const BIG: &[(&str, CategoryKind, &str)] = &[
    ("0101", Component, "公用设施"),
    ("0102", Component, "道路交通"),
    ("0103", Component, "市容环境"),
    ("0104", Component, "园林绿化"),
    ("0105", Component, "房屋土地"),
    ("0106", Component, "其他设施"),
    ("0201", Event, "市容环境"),
    ("0202", Event, "宣传广告"),
    ("0203", Event, "施工管理"),
    ("0204", Event, "突发事件"),
    ("0205", Event, "街面秩序"),
    ("0206", Event, "市政设施"),
    ("0207", Event, "其他事件"),
    ("0301", Duty, "综治信访"),
    ("0302", Duty, "矛盾调处"),
    ("0303", Duty, "市政设施"),
    ("0304", Duty, "安全生产"),
    ("0305", Duty, "消防安全"),
    ("0306", Duty, "食品安全"),
    ("0307", Duty, "环境卫生"),
    ("0308", Duty, "流动人口"),
    ("0309", Duty, "社会救助"),
    ("0310", Duty, "养老服务"),
    ("0311", Duty, "残疾人服务"),
];

/// Time limits in hours. [`URGENT`] counts natural hours; the others count working hours of a
/// 7.5-hour working day, rounded up to whole hours.
const URGENT: u32 = 2;
/// About one working day.
const DAY: u32 = 8;
/// About three working days.
const THREE_DAYS: u32 = 24;
/// About a working week.
const WEEK: u32 = 40;

/// Small categories: code, Chinese name, default level, time limit, default department.
const SMALL: &[(&str, &str, Level, u32, Option<&str>)] = &[
    // 部件 · 公用设施
    ("010101", "井盖破损", S, DAY, None),
    ("010102", "井盖缺失", S, URGENT, None),
    ("010103", "雨水箅子缺失", S, DAY, None),
    ("010104", "消火栓损坏", S, DAY, Some("police")),
    ("010105", "路灯不亮", S, THREE_DAYS, None),
    ("010106", "电力设施损坏", S, DAY, None),
    ("010107", "通信交接箱损坏", S, THREE_DAYS, None),
    // 部件 · 道路交通
    ("010201", "交通信号灯故障", S, URGENT, Some("police")),
    ("010202", "交通标志损坏", S, THREE_DAYS, Some("transport")),
    ("010203", "道路护栏损坏", S, THREE_DAYS, Some("transport")),
    ("010204", "公交站亭损坏", S, THREE_DAYS, Some("transport")),
    ("010205", "道路破损", S, THREE_DAYS, Some("transport")),
    ("010206", "停车设施损坏", C, THREE_DAYS, Some("transport")),
    // 部件 · 市容环境
    ("010301", "垃圾箱破损", C, DAY, Some("enforcement")),
    ("010302", "公厕设施损坏", S, THREE_DAYS, None),
    ("010303", "广告牌匾破损", S, DAY, Some("enforcement")),
    // 部件 · 园林绿化
    ("010401", "树木倒伏", S, URGENT, None),
    ("010402", "绿地损毁", C, THREE_DAYS, Some("enforcement")),
    ("010403", "行道树缺株", S, WEEK, None),
    ("010404", "花坛护栏损坏", C, THREE_DAYS, None),
    // 部件 · 房屋土地
    ("010501", "危房险情", S, URGENT, None),
    ("010502", "建筑外立面脱落", S, URGENT, None),
    ("010503", "楼道设施损坏", C, THREE_DAYS, None),
    // 部件 · 其他设施
    ("010601", "健身器材损坏", C, THREE_DAYS, None),
    ("010602", "监控设施损坏", S, THREE_DAYS, Some("police")),
    ("010603", "宣传栏损坏", C, THREE_DAYS, None),
    // 事件 · 市容环境
    ("020101", "垃圾满溢", G, DAY, None),
    ("020102", "暴露垃圾", G, DAY, None),
    ("020103", "乱堆物料", G, DAY, Some("enforcement")),
    ("020104", "道路不洁", G, DAY, None),
    ("020105", "积存渣土", C, THREE_DAYS, Some("enforcement")),
    ("020106", "焚烧垃圾树叶", C, URGENT, Some("enforcement")),
    ("020107", "乱涂乱画", G, THREE_DAYS, None),
    ("020108", "乱拉乱挂", G, DAY, Some("enforcement")),
    // 事件 · 宣传广告
    ("020201", "非法小广告", G, DAY, Some("enforcement")),
    ("020202", "违规户外广告", S, THREE_DAYS, Some("enforcement")),
    ("020203", "违规悬挂横幅", C, DAY, Some("enforcement")),
    ("020204", "占道广告牌", G, DAY, Some("enforcement")),
    // 事件 · 施工管理
    ("020301", "施工扰民", S, DAY, Some("enforcement")),
    ("020302", "施工占道", S, DAY, Some("transport")),
    ("020303", "工地扬尘", S, DAY, Some("enforcement")),
    ("020304", "渣土车遗撒", S, DAY, Some("enforcement")),
    ("020305", "私搭乱建", J, WEEK, Some("enforcement")),
    // 事件 · 突发事件
    ("020401", "路面塌陷", S, URGENT, Some("transport")),
    ("020402", "道路积水", S, URGENT, None),
    ("020403", "燃气泄漏", S, URGENT, Some("police")),
    ("020404", "火灾隐患", S, URGENT, Some("police")),
    ("020405", "人员聚集", J, URGENT, Some("police")),
    // 事件 · 街面秩序
    ("020501", "占道经营", G, DAY, Some("enforcement")),
    ("020502", "店外经营", G, DAY, Some("enforcement")),
    ("020503", "无照经营游商", C, DAY, Some("market")),
    ("020504", "违章停车", G, DAY, Some("police")),
    ("020505", "非机动车乱停放", G, DAY, None),
    ("020506", "噪音扰民", C, DAY, Some("police")),
    ("020507", "露天烧烤", C, DAY, Some("enforcement")),
    ("020508", "黑车揽客", S, THREE_DAYS, Some("transport")),
    ("020509", "乞讨卖艺", C, DAY, Some("police")),
    // 事件 · 市政设施
    ("020601", "供水管道跑冒滴漏", S, DAY, None),
    ("020602", "污水冒溢", S, DAY, None),
    ("020603", "雨水井堵塞", S, THREE_DAYS, None),
    // 事件 · 其他事件
    ("020701", "违规饲养犬只", C, THREE_DAYS, Some("police")),
    ("020702", "价格欺诈", S, THREE_DAYS, Some("market")),
    ("020703", "商户不开发票", S, WEEK, Some("tax")),
    // 网格职责 · 综治信访
    ("030101", "信访诉求", C, WEEK, Some("justice")),
    ("030102", "重点人员动态", G, DAY, Some("police")),
    // 网格职责 · 矛盾调处
    ("030201", "邻里纠纷", G, THREE_DAYS, Some("justice")),
    ("030202", "家庭纠纷", G, THREE_DAYS, Some("justice")),
    ("030203", "物业纠纷", C, WEEK, Some("justice")),
    ("030204", "劳资纠纷", S, WEEK, Some("justice")),
    // 网格职责 · 市政设施
    ("030301", "小区设施损坏", G, THREE_DAYS, None),
    ("030302", "楼道灯不亮", G, THREE_DAYS, None),
    // 网格职责 · 安全生产
    ("030401", "小场所安全隐患", S, DAY, Some("enforcement")),
    ("030402", "燃气使用隐患", S, DAY, None),
    // 网格职责 · 消防安全
    ("030501", "消防通道堵塞", G, DAY, Some("police")),
    ("030502", "电动车楼道充电", G, DAY, Some("police")),
    // 网格职责 · 食品安全
    ("030601", "无证餐饮", S, THREE_DAYS, Some("market")),
    ("030602", "过期变质食品", S, DAY, Some("market")),
    // 网格职责 · 环境卫生
    ("030701", "楼道堆物", G, DAY, None),
    ("030702", "小区卫生死角", G, THREE_DAYS, None),
    // 网格职责 · 流动人口
    ("030801", "流动人口登记", G, WEEK, Some("police")),
    ("030802", "出租房屋登记", G, WEEK, Some("police")),
    // 网格职责 · 社会救助
    ("030901", "困难群众救助", C, WEEK, None),
    ("030902", "临时救助", C, THREE_DAYS, None),
    // 网格职责 · 养老服务
    ("031001", "独居老人关爱", C, THREE_DAYS, None),
    ("031002", "居家养老服务需求", C, WEEK, None),
    // 网格职责 · 残疾人服务
    ("031101", "残疾人帮扶", C, WEEK, None),
];

/// The standard catalogue's categories, in code order.
pub(super) fn categories() -> Vec<Category> {
    SMALL
        .iter()
        .filter_map(|&(code, name, level, limit_hours, department)| {
            let &(big_code, kind, big_name) = BIG.iter().find(|b| code.starts_with(b.0))?;
            Some(Category {
                code: code.to_string(),
                kind,
                big_code: big_code.to_string(),
                big_name: big_name.to_string(),
                name: name.to_string(),
                level,
                limit_hours,
                department: department.map(str::to_string),
                clock: if limit_hours <= URGENT {
                    LimitClock::Natural
                } else {
                    LimitClock::Working
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Catalogue;

    #[test]
    fn every_small_category_finds_its_big_one_and_every_big_one_is_used() {
        let all = categories();
        assert_eq!(all.len(), SMALL.len());
        for &(big_code, _, _) in BIG {
            assert!(
                all.iter().any(|c| c.big_code == big_code),
                "{big_code} unused"
            );
        }
    }

    #[test]
    fn codes_follow_the_kind_big_small_convention_in_order() {
        let all = categories();
        for c in &all {
            assert_eq!(c.code.len(), 6, "{}", c.code);
            assert!(c.code.chars().all(|ch| ch.is_ascii_digit()), "{}", c.code);
            let kind = match c.kind {
                CategoryKind::Component => "01",
                CategoryKind::Event => "02",
                CategoryKind::Duty => "03",
            };
            assert!(c.code.starts_with(kind), "{} is {:?}", c.code, c.kind);
        }
        assert!(all.windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn urgent_categories_run_on_natural_hours_and_the_rest_on_working_hours() {
        let all = categories();
        let cover = all.iter().find(|c| c.name == "井盖缺失").unwrap();
        assert_eq!(
            (cover.limit_hours, cover.clock),
            (URGENT, LimitClock::Natural)
        );
        for c in &all {
            assert_eq!(
                c.clock == LimitClock::Natural,
                c.limit_hours <= URGENT,
                "{c:?}"
            );
        }
        assert!(all.iter().any(|c| c.clock == LimitClock::Working));
    }

    #[test]
    fn the_catalogue_passes_its_own_checks_and_is_big_enough() {
        let catalogue = Catalogue::try_new(categories());
        assert!(catalogue.is_ok(), "{catalogue:?}");
        let all = categories();
        assert!(all.len() >= 60, "{}", all.len());
        for kind in [
            CategoryKind::Component,
            CategoryKind::Event,
            CategoryKind::Duty,
        ] {
            assert!(
                all.iter().filter(|c| c.kind == kind).count() >= 10,
                "{kind:?}"
            );
        }
        for level in [
            Level::Grid,
            Level::Community,
            Level::Street,
            Level::JointEnforcement,
        ] {
            assert!(all.iter().any(|c| c.level == level), "{level:?}");
        }
        for dept in [
            "police",
            "enforcement",
            "market",
            "transport",
            "tax",
            "justice",
        ] {
            assert!(
                all.iter().any(|c| c.department.as_deref() == Some(dept)),
                "{dept}"
            );
        }
    }
}
