export function generateReportTypes(schema?: object): Promise<string>;
