"""Land classification codes used across OneMap, as plain Python (no Django), so the data
generators can use them too (docs/domain.md, "Codes")."""

#: GB/T 21010-2017 / third national land survey (三调) second-level classes used by the demo and
#: benchmark survey layers, code → Chinese name.
LAND_CLASSES: dict[str, str] = {
    "0101": "水田",
    "0102": "水浇地",
    "0103": "旱地",
    "0201": "果园",
    "0204": "其他园地",
    "0301": "乔木林地",
    "0305": "灌木林地",
    "0307": "其他林地",
    "0404": "其他草地",
    "05H1": "商业服务业设施用地",
    "0601": "工业用地",
    "0602": "采矿用地",
    "0701": "城镇住宅用地",
    "0702": "农村宅基地",
    "08H2": "科教文卫用地",
    "1003": "公路用地",
    "1006": "农村道路",
    "1101": "河流水面",
    "1102": "湖泊水面",
    "1104": "坑塘水面",
    "1106": "内陆滩涂",
    "1107": "沟渠",
    "1202": "设施农用地",
}

#: Old land-use master plan construction-control zones (field GZQLXDM), code → Chinese name.
PLAN_ZONE_NAMES: dict[str, str] = {
    "010": "允许建设区",
    "020": "有条件建设区",
    "030": "限制建设区",
    "040": "禁止建设区",
}
