import type { Channel } from "@hub/kit";

// What the demo data is made of: regions, banks, names and the cases a person's cards show.

/** Region codes (GB/T 2260 county level) by province, for realistic identity numbers. */
export const REGIONS: Record<string, string[]> = {
  "11": ["110101", "110105", "110108"],
  "31": ["310101", "310104", "310115"],
  "44": ["440103", "440106", "440305"],
  "51": ["510104", "510107"],
  "32": ["320102", "320106"],
  "33": ["330102", "330106"],
  "42": ["420102", "420106"],
};
export const PROVINCES = Object.keys(REGIONS);

export const BANKS = [
  { name: "中国工商银行", bin: "622202" },
  { name: "中国建设银行", bin: "621700" },
  { name: "中国农业银行", bin: "622848" },
  { name: "中国银行", bin: "621661" },
  { name: "交通银行", bin: "622260" },
  { name: "招商银行", bin: "621483" },
];
export const SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高".split("");
export const GIVEN = [
  "伟",
  "芳",
  "娜",
  "敏",
  "静",
  "丽",
  "强",
  "磊",
  "军",
  "洋",
  "勇",
  "艳",
  "杰",
  "娟",
  "涛",
  "明",
  "超",
  "秀英",
  "华",
  "慧",
  "建国",
  "婷",
  "志强",
  "晓燕",
];
export const ECARD_CHANNELS: Channel[] = ["APP", "WECHAT", "ALIPAY"];

export const DAY = 24 * 60 * 60 * 1000;

export type Scenario =
  | "normal"
  | "archived"
  | "overdue"
  | "temporaryLoss"
  | "lost"
  | "renewalDue"
  | "expired"
  | "replaced"
  | "cancelled"
  | "lockedPassword";
export const SCENARIOS: Scenario[] = [
  "normal",
  "archived",
  "overdue",
  "temporaryLoss",
  "lost",
  "renewalDue",
  "expired",
  "replaced",
  "cancelled",
  "lockedPassword",
];
