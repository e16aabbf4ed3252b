/**
 * S7CommPlus constants (docs/PROTOCOL.md §6, §9.2, §19.4, §28).
 */

/** First byte of a PDU (§6). */
export const Opcode = {
  Request: 0x31,
  Response: 0x32,
  Notification: 0x33,
  /** Old S7-1200 FW V2.2 answer to a `74`-flagged SetVariable (same layout as a response). */
  Response2: 0x02,
} as const;

/** Function codes (§6.4). */
export const FunctionCode = {
  Error: 0x04b1,
  Explore: 0x04bb,
  CreateObject: 0x04ca,
  DeleteObject: 0x04d4,
  SetVariable: 0x04f2,
  GetVariable: 0x04fc,
  AddLink: 0x0506,
  RemoveLink: 0x051a,
  GetLink: 0x0524,
  SetMultiVariables: 0x0542,
  GetMultiVariables: 0x054c,
  BeginSequence: 0x0556,
  EndSequence: 0x0560,
  Invoke: 0x056b,
  SetVarSubStreamed: 0x057c,
  GetVarSubStreamed: 0x0586,
  GetVariablesAddress: 0x0590,
  Abort: 0x059a,
  Error2: 0x05a9,
  InitSsl: 0x05b3,
} as const;
export type FunctionCodeName = keyof typeof FunctionCode;

const FUNCTION_NAMES: ReadonlyMap<number, FunctionCodeName> = new Map(
  (Object.entries(FunctionCode) as [FunctionCodeName, number][]).map(([name, code]) => [code, name]),
);

/** The name of a function code, or undefined. */
export function functionCodeName(code: number): FunctionCodeName | undefined {
  return FUNCTION_NAMES.get(code);
}

/** Transport flags byte of the headers (§6.5). */
export const TransportFlags = {
  InitSsl: 0x30,
  SessionCreate: 0x36,
  Normal: 0x34,
  /** Bit 6: no response wanted (credit-limit SetVariable). */
  NoResponse: 0x74,
} as const;

/** PValue datatype ids (§9.2). */
export const Datatype = {
  Null: 0x00,
  Bool: 0x01,
  USInt: 0x02,
  UInt: 0x03,
  UDInt: 0x04,
  ULInt: 0x05,
  SInt: 0x06,
  Int: 0x07,
  DInt: 0x08,
  LInt: 0x09,
  Byte: 0x0a,
  Word: 0x0b,
  DWord: 0x0c,
  LWord: 0x0d,
  Real: 0x0e,
  LReal: 0x0f,
  Timestamp: 0x10,
  Timespan: 0x11,
  RID: 0x12,
  AID: 0x13,
  Blob: 0x14,
  WString: 0x15,
  Variant: 0x16,
  Struct: 0x17,
  S7String: 0x19,
} as const;
export type DatatypeName = keyof typeof Datatype;

/** PValue flag bits (§9.1). */
export const PValueFlags = {
  Array: 0x10,
  AddressArray: 0x20,
  SparseArray: 0x40,
  /** Set by S7-1511 FW V1.0 on every value; masked for interpretation, preserved for re-encoding. */
  Unknown80: 0x80,
} as const;

/** Softdatatype ids of PLC data types (§19.4, §19.5). */
export const Softdatatype = {
  Void: 0,
  Bool: 1,
  Byte: 2,
  Char: 3,
  Word: 4,
  Int: 5,
  DWord: 6,
  DInt: 7,
  Real: 8,
  Date: 9,
  TimeOfDay: 10,
  Time: 11,
  S5Time: 12,
  DateAndTime: 14,
  Array: 16,
  Struct: 17,
  String: 19,
  Pointer: 20,
  Any: 22,
  BBool: 40,
  LReal: 48,
  ULInt: 49,
  LInt: 50,
  LWord: 51,
  USInt: 52,
  UInt: 53,
  UDInt: 54,
  SInt: 55,
  WChar: 61,
  WString: 62,
  LTime: 64,
  LTOD: 65,
  LDT: 66,
  DTL: 67,
} as const;
export type SoftdatatypeName = keyof typeof Softdatatype;

/** PObject element tags (§10). */
export const ElementTag = {
  StartOfObject: 0xa1,
  TerminatingObject: 0xa2,
  Attribute: 0xa3,
  Relation: 0xa4,
  StartOfTagDescription: 0xa7,
  TerminatingTagDescription: 0xa8,
  VartypeList: 0xab,
  VarnameList: 0xac,
} as const;

/** Well-known object, class and attribute ids (§28) used by the messages. */
export const Ids = {
  ASRoot: 1,
  PLCProgram: 3,
  CPUcommon: 50,
  CPUexecUnit: 52,
  AreaInputs: 80,
  AreaOutputs: 81,
  AreaMarkers: 82,
  AreaCounters: 83,
  AreaTimers: 84,
  ObjectRoot: 201,
  GetNewRIDOnServer: 211,
  ObjectVariableTypeName: 233,
  ClassSubscriptions: 255,
  ObjectServerSessionContainer: 285,
  ClassServerSession: 287,
  ObjectNullServerSession: 288,
  ServerSessionClientID: 289,
  ServerSessionUser: 296,
  ServerSessionApplication: 297,
  ServerSessionHost: 298,
  ServerSessionRole: 299,
  ServerSessionClientRID: 300,
  ServerSessionClientComment: 301,
  ServerSessionTimeout: 302,
  ServerSessionChallenge: 303,
  ServerSessionResponse: 304,
  ServerSessionRoles: 305,
  ServerSessionVersion: 306,
  ServerSessionVersionStruct: 314,
  SystemOMS: 315,
  ProjectOMS: 316,
  SystemPAOM: 317,
  ProjectPAOM: 318,
  SystemPAOMString: 319,
  ProjectPAOMString: 320,
  ProjectFormat: 321,
  ClassTypeInfo: 511,
  ClassOMSTypeInfoContainer: 534,
  ObjectOMSTypeInfoContainer: 537,
  ClassSubscription: 1001,
  SubscriptionMissedSendings: 1002,
  SubscriptionSubsystemError: 1003,
  SystemLimits: 1037,
  SubscriptionRouteMode: 1040,
  SubscriptionActive: 1041,
  SubscriptionReferenceList: 1048,
  SubscriptionCycleTime: 1049,
  SubscriptionDelayTime: 1050,
  SubscriptionDisabled: 1051,
  SubscriptionCount: 1052,
  SubscriptionCreditLimit: 1053,
  SubscriptionTicks: 1054,
  Subscription1055: 1055,
  FreeItems: 1081,
  SubscriptionFunctionClassId: 1082,
  FilterStruct: 1246,
  FilterOperation: 1247,
  FilterAddressCount: 1249,
  FilterAddress: 1250,
  FilterValue: 1251,
  ObjectQualifier: 1256,
  ParentRID: 1257,
  CompositionAID: 1258,
  KeyQualifier: 1259,
  SecurityKey: 1830,
  EffectiveProtectionLevel: 1842,
  Legitimate: 1846,
  OperatingStateREQ: 2167,
  ClassPLCProgram: 2520,
  BlockNumber: 2521,
  DBValueInitial: 2548,
  DBValueActual: 2550,
  ClassDB: 2574,
  CPUProtectionLevel: 3451,
  ControllerAreaValueActual: 3736,
  Comment: 4288,
  SystemEventRequestOpcode: 40303,
  SystemEventReturnValue: 40305,
  LegitimationStruct: 40400,
  LegitimationType: 40401,
  LegitimationUsername: 40402,
  LegitimationPassword: 40403,
  /** First subscription RelationId used by CS/JS. */
  FirstSubscriptionRelation: 0x7fffc001,
  /** AccessArea of DB n = DBArea + n. */
  DBArea: 0x8a0e0000,
  TypeInfoInputs: 0x90010000,
  TypeInfoOutputs: 0x90020000,
  TypeInfoMarkers: 0x90030000,
  TypeInfoTimers: 0x90050000,
  TypeInfoCounters: 0x90060000,
  /** Type info of system types = SystemTypeInfo + softdatatype (DTL 0x02000043). */
  SystemTypeInfo: 0x02000000,
} as const;

/** LID 3 of a DB or I/Q/M area: classic (absolute) byte access (§19.3). */
export const CLASSIC_BLOB_LID = 3;
/** LID 1 of a DB: its type-info RID (§19.2). */
export const TYPE_INFO_LID = 1;
