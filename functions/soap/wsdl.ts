/**
 * The WSDL 1.1 document of the SOAP API (document/literal wrapped, SOAP 1.1 over HTTP), written from
 * the operations, that is from the route records and their schemas.
 */
import { type Field, type Operation, type Scalar, type Shape } from './shapes.ts';

export const NAMESPACE = 'urn:feedback-loops:soap:v1';
/** The SOAP header element that carries the API key. */
export const AUTH_HEADER = 'Authentication';

export const soapAction = (operation: string) => `${NAMESPACE}#${operation}`;

export const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Integers are `xsd:long`: JSON's integers reach 2^53 (a log file's size), past `xsd:int`; PHP reads both as int. */
const xsdType = (scalar: Scalar) => (scalar === 'int' ? 'xsd:long' : `xsd:${scalar}`);

function typeBody(shape: Shape, indent: string): string {
  switch (shape.kind) {
    case 'scalar':
      if (!shape.enum) return '';
      return (
        `${indent}<xsd:simpleType><xsd:restriction base="xsd:string">\n` +
        shape.enum.map((value) => `${indent}  <xsd:enumeration value="${escapeXml(value)}"/>\n`).join('') +
        `${indent}</xsd:restriction></xsd:simpleType>\n`
      );
    case 'object':
      return sequence(shape.fields, indent);
    case 'map':
      return (
        `${indent}<xsd:complexType><xsd:sequence>\n` +
        `${indent}  <xsd:element name="item" minOccurs="0" maxOccurs="unbounded">\n` +
        sequence(
          [{ name: 'key', shape: { kind: 'scalar', type: 'string' }, optional: false, many: false }],
          `${indent}    `,
          [valueField(shape.value)],
        ) +
        `${indent}  </xsd:element>\n` +
        `${indent}</xsd:sequence></xsd:complexType>\n`
      );
    case 'choice':
      // One element named by the type of the value it holds; XSD's choice would do, but PHP reads a sequence of optional elements more plainly.
      return sequence(
        shape.options.map((type) => ({ name: type, shape: { kind: 'scalar', type }, optional: true, many: false })),
        indent,
      );
  }
}

function valueField(shape: Shape): Field {
  return { name: 'value', shape, optional: false, many: false };
}

function sequence(fields: Field[], indent: string, extra: Field[] = []): string {
  const all = [...fields, ...extra];
  if (!all.length) return `${indent}<xsd:complexType><xsd:sequence/></xsd:complexType>\n`;
  return (
    `${indent}<xsd:complexType><xsd:sequence>\n` +
    all.map((field) => element(field, `${indent}  `)).join('') +
    `${indent}</xsd:sequence></xsd:complexType>\n`
  );
}

function element(field: Field, indent: string): string {
  const occurs = `${field.optional || field.many ? ' minOccurs="0"' : ''}${field.many ? ' maxOccurs="unbounded"' : ''}`;
  const { shape } = field;
  if (shape.kind === 'scalar' && !shape.enum) {
    return `${indent}<xsd:element name="${field.name}" type="${xsdType(shape.type)}"${occurs}/>\n`;
  }
  return `${indent}<xsd:element name="${field.name}"${occurs}>\n${typeBody(shape, `${indent}  `)}${indent}</xsd:element>\n`;
}

/** The WSDL of `operations`, answering at `location` (the deployment's URL of POST /v1/soap). */
export function wsdlDocument(operations: readonly Operation[], location: string): string {
  const elements = operations
    .map(
      (operation) =>
        `      <xsd:element name="${operation.name}">\n${sequence(operation.input, '        ')}      </xsd:element>\n` +
        `      <xsd:element name="${operation.name}Response">\n${sequence(operation.output, '        ')}      </xsd:element>\n`,
    )
    .join('');
  const fault =
    '      <xsd:element name="error">\n' +
    sequence(
      [
        { name: 'code', shape: { kind: 'scalar', type: 'string' }, optional: false, many: false },
        { name: 'message', shape: { kind: 'scalar', type: 'string' }, optional: false, many: false },
        {
          name: 'details',
          shape: {
            kind: 'object',
            fields: [
              { name: 'path', shape: { kind: 'scalar', type: 'string' }, optional: false, many: false },
              { name: 'message', shape: { kind: 'scalar', type: 'string' }, optional: false, many: false },
            ],
          },
          optional: true,
          many: true,
        },
      ],
      '        ',
    ) +
    '      </xsd:element>\n';
  const auth =
    `      <xsd:element name="${AUTH_HEADER}">\n` +
    sequence(
      [{ name: 'accessToken', shape: { kind: 'scalar', type: 'string' }, optional: false, many: false }],
      '        ',
    ) +
    '      </xsd:element>\n';
  const messages = operations
    .map(
      (operation) =>
        `  <wsdl:message name="${operation.name}Request"><wsdl:part name="parameters" element="tns:${operation.name}"/></wsdl:message>\n` +
        `  <wsdl:message name="${operation.name}Response"><wsdl:part name="parameters" element="tns:${operation.name}Response"/></wsdl:message>\n`,
    )
    .join('');
  const portOperations = operations
    .map(
      (operation) =>
        `    <wsdl:operation name="${operation.name}">\n` +
        `      <wsdl:documentation>${escapeXml(operation.summary)} (${operation.route.method} ${operation.route.path})</wsdl:documentation>\n` +
        `      <wsdl:input message="tns:${operation.name}Request"/>\n` +
        `      <wsdl:output message="tns:${operation.name}Response"/>\n` +
        `      <wsdl:fault name="Error" message="tns:Error"/>\n` +
        `    </wsdl:operation>\n`,
    )
    .join('');
  const bindingOperations = operations
    .map(
      (operation) =>
        `    <wsdl:operation name="${operation.name}">\n` +
        `      <soap:operation soapAction="${soapAction(operation.name)}" style="document"/>\n` +
        `      <wsdl:input><soap:body use="literal"/><soap:header message="tns:AuthenticationHeader" part="header" use="literal"/></wsdl:input>\n` +
        `      <wsdl:output><soap:body use="literal"/></wsdl:output>\n` +
        `      <wsdl:fault name="Error"><soap:fault name="Error" use="literal"/></wsdl:fault>\n` +
        `    </wsdl:operation>\n`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="FeedbackLoops" targetNamespace="${NAMESPACE}"
    xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:tns="${NAMESPACE}">
  <wsdl:documentation>Feedback Loops: the SOAP API. Each operation runs the REST route named in its documentation, with the same rules.</wsdl:documentation>
  <wsdl:types>
    <xsd:schema targetNamespace="${NAMESPACE}" elementFormDefault="qualified">
${auth}${fault}${elements}    </xsd:schema>
  </wsdl:types>
  <wsdl:message name="AuthenticationHeader"><wsdl:part name="header" element="tns:${AUTH_HEADER}"/></wsdl:message>
  <wsdl:message name="Error"><wsdl:part name="error" element="tns:error"/></wsdl:message>
${messages}  <wsdl:portType name="FeedbackLoopsPortType">
${portOperations}  </wsdl:portType>
  <wsdl:binding name="FeedbackLoopsBinding" type="tns:FeedbackLoopsPortType">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
${bindingOperations}  </wsdl:binding>
  <wsdl:service name="FeedbackLoopsService">
    <wsdl:port name="FeedbackLoopsPort" binding="tns:FeedbackLoopsBinding">
      <soap:address location="${escapeXml(location)}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
`;
}
