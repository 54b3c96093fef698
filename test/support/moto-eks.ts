// The one thing the AWS API emulator gets wrong for EKS that Clusterforge reads: moto answers an EKS
// cluster's certificateAuthority.data with 1400 random characters, where EKS gives the base64 of the
// cluster CA's PEM certificate. This puts the base64 of a real CA certificate in that one field of
// every EKS answer that has it, at the SDK's edge (a middleware on the provider's EKS client), so
// the kubeconfig the operator writes can be checked. Every call still goes to the emulator.
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AwsClientFactoryOptions } from '../../providers/aws-common/clients.js';
import { createCertificateAuthority } from '../../src/pki/issue.js';

export interface RealClusterCA {
  /** The base64 of the CA certificate's PEM, as EKS would give it. */
  caData: string;
  /** The AwsClientFactory hook that installs the middleware. */
  onClient: NonNullable<AwsClientFactoryOptions['onClient']>;
}

export async function realClusterCA(): Promise<RealClusterCA> {
  const ca = await createCertificateAuthority({ commonName: 'eks-emulated-cluster-ca' });
  const caData = Buffer.from(ca.cert).toString('base64');
  return {
    caData,
    onClient: (client, service) => {
      if (service !== 'eks') return;
      (client as EKSClient).middlewareStack.add(
        (next) => async (args) => {
          const result = await next(args);
          const out = result.output as { cluster?: { certificateAuthority?: { data?: string } } };
          if (out.cluster?.certificateAuthority?.data) out.cluster.certificateAuthority.data = caData;
          return result;
        },
        { step: 'initialize', name: 'realClusterCertificateInPlaceOfMotosRandomText' },
      );
    },
  };
}
